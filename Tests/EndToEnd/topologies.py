"""Redis deployments for the production tests, each from apt binaries on loopback: a TLS server with
certificates made by the openssl CLI, a Sentinel set (master, replicas, sentinels), a Redis Cluster.
Every process is started here and stopped by `stop()`; nothing is left behind."""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from services import free_port, wait_for


def redis_cli(port, *args, timeout=10):
    result = subprocess.run(["redis-cli", "-p", str(port), *map(str, args)], capture_output=True, text=True, timeout=timeout)
    return result.stdout.strip()


def sentinel_command(config):
    """Debian's redis-sentinel (another name for the redis-server binary); `redis-server --sentinel` otherwise."""
    path = shutil.which("redis-sentinel")
    return [path, str(config)] if path else ["redis-server", str(config), "--sentinel"]


class Process:
    def __init__(self, argv, log):
        self.argv = argv
        self.log = log
        self.process = subprocess.Popen(argv, stdout=open(log, "w"), stderr=subprocess.STDOUT, start_new_session=True)

    def alive(self):
        return self.process.poll() is None

    def kill9(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self):
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Certificates:
    """A CA and certificates made with the openssl CLI (EC P-256, valid for one day)."""

    def __init__(self, directory):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)

    def openssl(self, *args):
        result = subprocess.run(["openssl", *args], capture_output=True, text=True, cwd=self.dir, timeout=30)
        assert result.returncode == 0, result.stderr

    def ca(self, name):
        self.openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
                     "-subj", f"/CN={name}", "-keyout", f"{name}.key", "-out", f"{name}.pem")
        return self.dir / f"{name}.pem"

    def issue(self, ca, name, san, client=False):
        """A certificate for `name` with subjectAltName `san`, signed by the CA named `ca`."""
        self.openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", f"/CN={name}",
                     "-keyout", f"{name}.key", "-out", f"{name}.csr")
        usage = "clientAuth" if client else "serverAuth"
        (self.dir / f"{name}.ext").write_text(f"subjectAltName={san}\nextendedKeyUsage={usage}\n")
        self.openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key", "-CAcreateserial",
                     "-days", "1", "-extfile", f"{name}.ext", "-out", f"{name}.pem")
        return self.dir / f"{name}.pem", self.dir / f"{name}.key"

    def issue_expired(self, ca, name, san):
        """A server certificate that expired yesterday. `openssl x509 -req` (OpenSSL 3.0) cannot backdate,
        so the `cryptography` package signs it with the CA the openssl CLI made."""
        from datetime import datetime, timedelta, timezone
        from ipaddress import ip_address

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        ca_cert = x509.load_pem_x509_certificate((self.dir / f"{ca}.pem").read_bytes())
        ca_key = serialization.load_pem_private_key((self.dir / f"{ca}.key").read_bytes(), password=None)
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(timezone.utc)
        names = []
        for entry in san.split(","):
            kind, value = entry.split(":", 1)
            names.append(x509.DNSName(value) if kind == "DNS" else x509.IPAddress(ip_address(value)))
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
                .issuer_name(ca_cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - timedelta(days=3)).not_valid_after(now - timedelta(days=1))
                .add_extension(x509.SubjectAlternativeName(names), critical=False)
                .sign(ca_key, hashes.SHA256()))
        (self.dir / f"{name}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        (self.dir / f"{name}.key").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                                 serialization.NoEncryption()))
        return self.dir / f"{name}.pem", self.dir / f"{name}.key"


class TLSRedis:
    """redis-server listening on a TLS port only."""

    def __init__(self, certificate, key, ca, auth_clients=False):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="veto-redis-tls-")
        self.ca = ca
        self.process = Process(["redis-server", "--bind", "127.0.0.1", "--port", "0", "--tls-port", str(self.port),
                                "--tls-cert-file", str(certificate), "--tls-key-file", str(key), "--tls-ca-cert-file", str(ca),
                                "--tls-auth-clients", "yes" if auth_clients else "no", "--save", "", "--appendonly", "no",
                                "--dir", self.dir], Path(self.dir) / "redis.log")
        try:
            # Listening is enough: the certificate may be one a client is meant to refuse.
            wait_for(lambda: self._listening() or not self.process.alive(), what=f"TLS redis-server on {self.port}")
            assert self.process.alive(), (Path(self.dir) / "redis.log").read_text()
        except BaseException:
            self.stop()
            raise

    def _listening(self):
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", self.port)) == 0

    def cli(self, *args, cert=None, key=None):
        extra = ["--cert", str(cert), "--key", str(key)] if cert else []
        result = subprocess.run(["redis-cli", "--tls", "--cacert", str(self.ca), *extra, "-p", str(self.port), *args],
                                capture_output=True, text=True, timeout=10)
        return result.stdout.strip()

    def stop(self):
        self.process.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class SentinelSet:
    """One master, `replicas` replicas and `sentinels` sentinels (quorum 2) monitoring it as `name`."""

    def __init__(self, name="mymaster", replicas=2, sentinels=3, down_after_ms=1000, failover_timeout_ms=4000):
        self.name = name
        self.dir = Path(tempfile.mkdtemp(prefix="veto-sentinel-"))
        self.servers, self.sentinels = {}, {}
        try:
            self._start(replicas, sentinels, down_after_ms, failover_timeout_ms)
        except BaseException:
            self.stop()
            raise

    def _start(self, replicas, sentinels, down_after_ms, failover_timeout_ms):
        name = self.name
        self.master_port = self._server([])
        for _ in range(replicas):
            self._server(["--replicaof", "127.0.0.1", str(self.master_port)])
        wait_for(lambda: redis_cli(self.master_port, "INFO", "replication").count("state=online") == replicas,
                 what="replicas in sync")
        for _ in range(sentinels):
            port = free_port()
            config = self.dir / f"sentinel-{port}.conf"
            config.write_text(f"""port {port}
bind 127.0.0.1
daemonize no
dir {self.dir}
sentinel monitor {name} 127.0.0.1 {self.master_port} 2
sentinel down-after-milliseconds {name} {down_after_ms}
sentinel failover-timeout {name} {failover_timeout_ms}
sentinel parallel-syncs {name} 1
""")
            self.sentinels[port] = Process(sentinel_command(config), self.dir / f"sentinel-{port}.log")
        # Every sentinel knows the replicas and the other sentinels before anything is failed over.
        def settled():
            for port in self.sentinels:
                info = dict(zip(*[iter(redis_cli(port, "SENTINEL", "MASTER", name).splitlines())] * 2))
                if info.get("num-slaves") != str(replicas) or info.get("num-other-sentinels") != str(sentinels - 1):
                    return False
            return True
        wait_for(settled, timeout=60, interval=0.2, what="sentinels to discover replicas and each other")

    def _server(self, extra):
        port = free_port()
        self.servers[port] = Process(["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
                                      "--dir", str(self.dir), "--dbfilename", f"dump-{port}.rdb", *extra], self.dir / f"redis-{port}.log")
        wait_for(lambda: redis_cli(port, "PING") == "PONG", what=f"redis-server on {port}")
        return port

    @property
    def url(self):
        return "redis-sentinel://" + ",".join(f"127.0.0.1:{port}" for port in self.sentinels) + f"/{self.name}"

    def reported_master(self):
        port = next(iter(self.sentinels))
        reply = redis_cli(port, "SENTINEL", "get-master-addr-by-name", self.name).splitlines()
        return int(reply[1]) if len(reply) == 2 else None

    def stop(self):
        for process in list(self.sentinels.values()) + list(self.servers.values()):
            process.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class Cluster:
    """`masters` cluster-enabled redis-servers joined with `redis-cli --cluster create`."""

    def __init__(self, masters=3):
        self.dir = Path(tempfile.mkdtemp(prefix="veto-cluster-"))
        self.nodes = {}
        try:
            self._start(masters)
        except BaseException:
            self.stop()
            raise

    def _start(self, masters):
        for _ in range(masters):
            port = free_port()
            node_dir = self.dir / str(port)
            node_dir.mkdir()
            # The bus port is given: the default, port + 10000, does not exist for a port above 55535.
            self.nodes[port] = Process(["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--cluster-enabled", "yes",
                                        "--cluster-port", str(free_port()),
                                        "--cluster-config-file", str(node_dir / "nodes.conf"), "--cluster-node-timeout", "2000",
                                        "--save", "", "--appendonly", "no", "--dir", str(node_dir)], node_dir / "redis.log")
            wait_for(lambda: redis_cli(port, "PING") == "PONG", what=f"cluster node on {port}")
        created = subprocess.run(["redis-cli", "--cluster", "create", *[f"127.0.0.1:{port}" for port in self.nodes],
                                  "--cluster-replicas", "0", "--cluster-yes"], capture_output=True, text=True, timeout=60)
        assert created.returncode == 0, created.stdout + created.stderr
        wait_for(lambda: all("cluster_state:ok" in redis_cli(port, "CLUSTER", "INFO") for port in self.nodes), timeout=30,
                 interval=0.1, what="cluster_state:ok on every node")

    @property
    def ports(self):
        return list(self.nodes)

    def url(self, seeds=1):
        return "redis-cluster://" + ",".join(f"127.0.0.1:{port}" for port in self.ports[:seeds])

    def node_id(self, port):
        return redis_cli(port, "CLUSTER", "MYID")

    def owner(self, slot):
        """The port of the master serving `slot`, as the nodes' own view says."""
        for port in self.ports:
            for entry in redis_cli(port, "CLUSTER", "NODES").splitlines():
                fields = entry.split()
                if "myself" in fields[2]:
                    for part in fields[8:]:
                        if part.startswith("["):
                            continue
                        low, _, high = part.partition("-")
                        if int(low) <= slot <= int(high or low):
                            return port
        return None

    def slot(self, key):
        return int(redis_cli(self.ports[0], "CLUSTER", "KEYSLOT", key))

    def stop(self):
        for process in self.nodes.values():
            process.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
