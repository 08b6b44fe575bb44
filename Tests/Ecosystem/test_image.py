"""The container image, built and run (README, "Deploy"). No registry is reachable here, so
Scripts/image builds it with podman from a Debian base made by mmdebstrap and a veto binary built
on this machine with --static-swift-stdlib (debug here: quicker; `Scripts/image --release` to ship).

The image then runs under podman, with the port published on loopback: its HEALTHCHECK passes, it
runs as uid 10001, and /v1/check answers 401 without a token and 200 with one signed by a key the
test mounts. Where podman cannot run containers (no cgroups, namespaces or overlay), the runtime
root filesystem runs instead under unshare + chroot, with the runtime stage's RUN replayed in it and
the image's user and command; every test then prints that it ran the fallback.
VETO_IMAGE_RUNNER=chroot forces the fallback; VETO_SKIP_IMAGE=1 skips this file (and says so).
"""
import json
import os
import shutil
import signal
import subprocess
import tarfile
import time
import uuid
import warnings
from pathlib import Path

import pytest

from conftest import AUD, ISS, ROOT
from services import free_port, request, wait_for
from test_docker_files import healthcheck_command, stages

OUT = ROOT / ".build" / "image"
UID = 10001


def read_report():
    return dict(line.split("=", 1) for line in (OUT / "report").read_text().split())


def podman(*args, check=True, timeout=120):
    flags = (OUT / "podman.args").read_text().split()
    return subprocess.run(["podman", *flags, *args], capture_output=True, text=True, timeout=timeout, check=check)


def podman_can_run(tag):
    """Whether this machine runs containers: a real `podman run` of the built image."""
    run_flags = (OUT / "podman-run.args").read_text().split()
    probe = podman("run", "--rm", *run_flags, "--network", "none", "--entrypoint", "true", tag, check=False)
    return probe.returncode == 0, (probe.stderr or probe.stdout).strip()[-300:]


@pytest.fixture(scope="module")
def image():
    if os.environ.get("VETO_SKIP_IMAGE") == "1":
        pytest.skip("VETO_SKIP_IMAGE=1: the image is neither built nor run")
    if os.geteuid() != 0:
        pytest.skip("the image build and run need root here (rootful podman, mmdebstrap, chroot); run as root")
    started = time.monotonic()
    build = subprocess.run([str(ROOT / "Scripts" / "image")], cwd=ROOT, capture_output=True, text=True, timeout=3600)
    seconds = time.monotonic() - started
    print(f"\nScripts/image took {seconds:.0f} s:\n{build.stdout[-1500:]}")
    report = read_report() if (OUT / "report").is_file() else {}
    runner = os.environ.get("VETO_IMAGE_RUNNER", "podman")
    if build.returncode == 0 and runner == "podman":
        can_run, why = podman_can_run(report["tag"])
        if not can_run:
            print(f"FALLBACK: podman built the image but cannot run it here ({why}); running its root filesystem under chroot")
            runner = "chroot"
    elif build.returncode != 0:
        # Without a container runtime the build's RUN step fails too; the binary and base are made first.
        assert (OUT / "veto").is_file() and (OUT / "rootfs-bookworm.tar").is_file(), \
            f"Scripts/image failed before the binary and base were made:\n{build.stdout[-2000:]}\n{build.stderr[-2000:]}"
        print(f"FALLBACK: podman could not build the image here:\n{build.stderr[-1000:]}\nrunning the runtime root filesystem under chroot")
        runner = "chroot"
    if runner == "chroot":
        # A warning, so pytest's summary shows it even when the output of passing tests is hidden.
        warnings.warn("FALLBACK: the image runs under unshare + chroot, not podman (README, \"Deploy\")")
    return {"report": report, "runner": runner}


# ---- podman

class PodmanContainer:
    """`podman run -d` of the image, its port 8080 published on a free loopback port. slirp4netns
    gives it a network namespace of its own without touching the host's firewall."""

    def __init__(self, tag, args, mounts):
        self.name = f"veto-test-{uuid.uuid4().hex[:8]}"
        self.port = free_port()
        volumes = [f"--volume={source}:{target}:ro" for source, target in mounts.items()]
        run_flags = (OUT / "podman-run.args").read_text().split()
        podman("run", "--detach", "--name", self.name, *run_flags, "--network", "slirp4netns:port_handler=slirp4netns",
               "--publish", f"127.0.0.1:{self.port}:8080", *volumes, tag, *args)
        self.wait_until_healthy()

    def wait_until_healthy(self):
        def healthy():
            state = podman("inspect", self.name, "--format", "{{.State.Running}}").stdout.strip()
            assert state == "true", f"the container stopped:\n{self.logs()}"
            return request(self.port, "GET", "/healthz", timeout=2)[0] == 200
        wait_for(healthy, timeout=60, what=f"veto in container {self.name}")

    def healthcheck(self):
        """The image's own HEALTHCHECK, run by podman inside the container."""
        return podman("healthcheck", "run", self.name, check=False).returncode

    def process_uid(self):
        status = podman("exec", self.name, "cat", "/proc/1/status").stdout
        return int(next(line.split()[1] for line in status.splitlines() if line.startswith("Uid:")))

    def command(self):
        return podman("exec", self.name, "cat", "/proc/1/cmdline").stdout.split("\0")[:2]

    def logs(self):
        result = podman("logs", self.name, check=False)
        return (result.stdout + result.stderr)[-3000:]

    def stop(self):
        podman("rm", "--force", "--time", "5", self.name, check=False)


# ---- chroot fallback

class ChrootContainer:
    """The runtime stage by hand: the mmdebstrap base unpacked, the Dockerfile's runtime RUN replayed
    in a chroot, the binary copied in, then ENTRYPOINT + arguments run as the Dockerfile's USER in
    new mount and PID namespaces. It shares the host's network, so it listens on a free port and
    the HEALTHCHECK command is run with that port in place of 8080."""

    def __init__(self, root, args, mounts):
        self.root = root
        runtime = stages()[-1]
        steps = dict((ins, arg) for ins, arg in runtime["steps"] if ins != "RUN")
        if not (root / "usr/local/bin/veto").exists():
            with tarfile.open(OUT / "rootfs-bookworm.tar") as archive:
                archive.extractall(root, filter="fully_trusted")
            for ins, arg in runtime["steps"]:
                if ins == "RUN":
                    subprocess.run(["chroot", str(root), "/bin/sh", "-c", arg], check=True, capture_output=True, timeout=120)
            shutil.copy2(OUT / "veto", root / "usr/local/bin/veto")
        for source, target in mounts.items():
            (root / target.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, root / target.lstrip("/"))
        self.user = steps["USER"]
        self.workdir = steps["WORKDIR"]
        self.port = free_port()
        entrypoint = json.loads(steps["ENTRYPOINT"])
        args = [a.replace("0.0.0.0:8080", f"127.0.0.1:{self.port}") for a in args]
        uid, gid = self.user.split(":")
        self.log = root.parent / "veto-chroot.log"
        self.process = subprocess.Popen(
            # /proc as in a container: a binary linked with --static-swift-stdlib reads its arguments
            # from /proc/self/cmdline, and without it `veto serve …` sees none.
            ["unshare", "--mount", "--pid", "--fork", "--kill-child", "--mount-proc=/proc", f"--root={root}", f"--wd={self.workdir}",
             f"--setuid={uid}", f"--setgid={gid}", *entrypoint, *args],
            stdout=self.log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
        def healthy():
            assert self.process.poll() is None, f"veto under chroot exited with {self.process.returncode}:\n{self.logs()}"
            return request(self.port, "GET", "/healthz", timeout=2)[0] == 200
        wait_for(healthy, timeout=60, what="veto under chroot")

    def healthcheck(self):
        command = healthcheck_command()
        command = [*command[:2], command[2].replace("/8080", f"/{self.port}")]
        uid, gid = self.user.split(":")
        return subprocess.run(["unshare", f"--root={self.root}", f"--setuid={uid}", f"--setgid={gid}", *command],
                              timeout=10, capture_output=True).returncode

    def process_uid(self):
        child = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True).stdout.split()
        status = Path(f"/proc/{child[0]}/status").read_text()
        return int(next(line.split()[1] for line in status.splitlines() if line.startswith("Uid:")))

    def command(self):
        child = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True).stdout.split()
        return Path(f"/proc/{child[0]}/cmdline").read_text().split("\0")[:2]

    def logs(self):
        return self.log.read_text()[-3000:] if self.log.exists() else ""

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


# ---- the tests

@pytest.fixture(scope="module")
def container(image, keyring, tmp_path_factory):
    """The image started as a user would: the default CMD's listen address and data dir, plus an
    issuer whose ES256 public key is mounted read-only."""
    key = keyring.dir / keyring.files["ES256"]
    args = ["--listen", "0.0.0.0:8080", "--data-dir", "/var/lib/veto", "--issuer", ISS, "--audience", AUD,
            "--key", "ES256:/etc/veto/keys/public.pem"]
    mounts = {str(key): "/etc/veto/keys/public.pem"}
    if image["runner"] == "podman":
        running = PodmanContainer(image["report"]["tag"], args, mounts)
    else:
        running = ChrootContainer(tmp_path_factory.mktemp("image") / "rootfs", args, mounts)
    yield running
    running.stop()


def test_the_image_is_built_with_a_static_binary_and_its_size_reported(image, artifacts):
    report = image["report"]
    summary = (f"image {report.get('tag')}: {int(report.get('image_bytes', 0)) / 1e6:.0f} MB, "
          f"{report['configuration']} binary {int(report['binary_bytes']) / 1e6:.0f} MB; runner: {image['runner']}; "
          f"steps: tools {report['seconds_tools']} s, binary {report['seconds_binary']} s, base {report['seconds_base']} s "
          f"({report['base']}), image {report.get('seconds_image', '-')} s")
    print("\n" + summary)
    (artifacts / "image.txt").write_text(summary + "\n")  # Scripts/test-ecosystem prints it
    ldd = subprocess.run(["ldd", str(OUT / "veto")], capture_output=True, text=True).stdout
    assert "libswift" not in ldd and "libFoundation" not in ldd, ldd
    if image["runner"] == "podman":
        inspected = json.loads(podman("image", "inspect", report["tag"]).stdout)[0]
        assert inspected["Config"]["User"] == f"{UID}:{UID}"
        assert inspected["Config"]["Entrypoint"] == ["/usr/local/bin/veto", "serve"]
        assert inspected["Healthcheck"]["Test"] == ["CMD", *healthcheck_command()], "podman build --format docker keeps it"
        assert 50e6 < int(report["image_bytes"]) < 400e6


def test_the_healthcheck_passes_and_veto_runs_as_uid_10001(image, container):
    print(f"\nrunner: {image['runner']}")
    assert container.healthcheck() == 0, container.logs()
    assert container.process_uid() == UID
    assert container.command() == ["/usr/local/bin/veto", "serve"]


def test_check_answers_401_without_a_token_and_200_with_a_valid_one(image, container, keyring):
    print(f"\nrunner: {image['runner']}")
    status, headers, _ = request(container.port, "GET", "/v1/check")
    assert status == 401 and headers["www-authenticate"].startswith("Bearer"), (status, headers)
    token = keyring.token("ES256", sub="alice-in-the-image")
    status, headers, _ = request(container.port, "GET", "/v1/check", token)
    assert status == 200, (status, container.logs())
    assert headers["x-auth-subject"] == "alice-in-the-image"
    status, _, _ = request(container.port, "GET", "/v1/check", keyring.token("RS256"))
    assert status == 401, "a key the image was not given"
