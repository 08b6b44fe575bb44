"""README, "Deploy", without Docker: the commands as written, run for real (only what needs root
changes: no apt-get or install, redis-server, veto and nginx on free ports in a scratch folder)."""
import json
import os
import re
import shlex
import subprocess


from conftest import ROOT
from services import EchoUpstream, VetoServer, free_port, request, wait_for


def deploy_commands():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Deploy"):readme.index("## Gateway recipes")]
    block = section[section.index("Without Docker"):]
    block = block[block.index("```sh") + 5:]
    block = block[:block.index("```")]
    commands = [re.sub(r"\s+#.*$", "", line).strip() for line in block.replace("\\\n", " ").splitlines()]
    return [c for c in commands if c]


def test_the_deploy_section_is_under_ten_lines():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Deploy"):readme.index("## Gateway recipes")]
    for block in re.findall(r"```sh\n(.*?)```", section, flags=re.S):
        assert len(block.strip().splitlines()) < 10


def test_deploy_without_docker_works_as_written(veto_bin, tmp_path):
    commands = deploy_commands()
    assert [c.split()[0] for c in commands] == ["sudo", "swift", "veto", "redis-server", "veto", "sed"], commands
    apt, build, keygen, redis_line, serve_line, nginx_line = commands
    for package in apt.split("install -y", 1)[1].split():
        assert subprocess.run(["dpkg-query", "-W", package], capture_output=True).returncode == 0, f"{package} is not a Debian package here"
    assert build.startswith("swift build -c release --product veto && sudo install .build/release/veto /usr/local/bin/")

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "veto").symlink_to(veto_bin)
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}")
    subprocess.run(["bash", "-c", keygen], cwd=tmp_path, env=env, check=True, capture_output=True)
    assert (tmp_path / "keys/public.pem").exists() and len((tmp_path / "admin.token").read_text().strip()) == 64

    redis_port = free_port()
    subprocess.run(["bash", "-c", f"{redis_line} --port {redis_port} --bind 127.0.0.1 --dir {tmp_path} --pidfile {tmp_path}/redis.pid"],
                   cwd=tmp_path, check=True, capture_output=True)
    veto = nginx = upstream = None
    try:
        wait_for(lambda: (tmp_path / "redis.pid").exists(), what="redis-server")
        arguments = shlex.split(serve_line.rstrip("&").replace("127.0.0.1:6379", f"127.0.0.1:{redis_port}"))
        assert arguments[:2] == ["veto", "serve"]
        veto = VetoServer(veto_bin, arguments[2:], cwd=tmp_path)
        assert request(veto.port, "GET", "/readyz")[0] == 200

        upstream = EchoUpstream()
        nginx_port = free_port()
        render, install = nginx_line.split(" | ", 1)
        assert install.startswith("sudo tee /etc/nginx/conf.d/veto.conf") and "nginx -t" in install
        render = (render.replace("127.0.0.1:8080", f"127.0.0.1:{veto.port}").replace("127.0.0.1:9000", f"127.0.0.1:{upstream.port}")
                  .replace("LISTEN_ADDRESS/8000/", f"LISTEN_ADDRESS/127.0.0.1:{nginx_port}/"))
        site = subprocess.run(["bash", "-c", render], cwd=ROOT, check=True, capture_output=True, text=True).stdout
        (tmp_path / "site.conf").write_text(site)
        (tmp_path / "nginx.conf").write_text(
            f"daemon off; master_process off; pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log;\n"
            f"events {{}}\nhttp {{ access_log off; client_body_temp_path {tmp_path}/body; proxy_temp_path {tmp_path}/proxy;\n"
            f"fastcgi_temp_path {tmp_path}/fcgi; uwsgi_temp_path {tmp_path}/uwsgi; scgi_temp_path {tmp_path}/scgi;\n"
            f"include {tmp_path}/site.conf; }}\n")
        nginx_binary = "/usr/sbin/nginx"
        assert subprocess.run([nginx_binary, "-t", "-q", "-c", str(tmp_path / "nginx.conf")], capture_output=True).returncode == 0
        nginx = subprocess.Popen([nginx_binary, "-c", str(tmp_path / "nginx.conf")], stderr=subprocess.DEVNULL, start_new_session=True)
        wait_for(lambda: request(nginx_port, "GET", "/")[0] == 401, what="nginx")

        token = subprocess.run(["veto", "sign", "--key", "keys/private.pem", "--iss", "https://auth.example.com",
                                "--aud", "https://api.example.com", "--sub", "alice"],
                               cwd=tmp_path, env=env, check=True, capture_output=True, text=True).stdout.strip()
        status, _, body = request(nginx_port, "GET", "/orders", token)
        assert status == 200 and json.loads(body)["x-auth-subject"] == "alice"
    finally:
        if nginx:
            nginx.terminate()
            nginx.wait(timeout=10)
        if upstream:
            upstream.stop()
        if veto:
            veto.stop()
        pid_file = tmp_path / "redis.pid"
        if pid_file.exists():
            subprocess.run(["kill", pid_file.read_text().strip()], check=False)
