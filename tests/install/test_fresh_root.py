"""deploy/install-pi.sh in a fresh Debian 12 root, then a real ticket through the installed board.

``debootstrap --variant=minbase bookworm`` makes the root; the installer runs inside it via
``chroot`` (with ``--no-systemd``: systemd is not PID 1 here) from a copy of the checkout. Then,
in a network namespace of its own (so the installed broker can use port 1883 whatever runs on
this machine): mosquitto with exactly the installed configuration, ``qms hub`` as the unit runs
it (User=, EnvironmentFile=, ExecStart= read from the installed unit), a ticket issued, called and
completed through MQTT with the installed kiosk and counter logins, ``qms doctor``, and
``systemd-analyze verify`` of the installed units. Everything is undone in ``finally``.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from mqtt_bus.contract import HUB_CLIENT_ID
from qms.envfile import read_env

REPO = Path(__file__).resolve().parents[2]
ROLES = "hub kiosk display counter@1"
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
HOST_CONFIG = ("etc/resolv.conf", "etc/pip.conf", "etc/xdg/pip")  # same DNS and pip index settings as here

# Run inside the root: the installed web administration (started as its unit runs it) takes a login and
# saves the hall display's notice into the center's config.
WEB_SCRIPT = """
import http.cookiejar, re, sys, urllib.parse, urllib.request
base = "http://127.0.0.1:8080"
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
def post(path, data):
    return opener.open(base + path, urllib.parse.urlencode(data, doseq=True).encode())
post("/login", {"username": "kythuat", "password": sys.argv[1]})
page = opener.open(base + "/notices").read().decode()
fields = {k: re.search(f'name="{k}" value="([^"]+)"', page).group(1) for k in ("csrf", "base")}
done = post("/notices", {**fields, "notice_vi": "Nghỉ lễ 2/9", "notice_en": "", "footer_vi": "", "footer_en": ""})
print(done.status, done.url)
"""

# Run inside the root as the service user with the installed venv: the installed kiosk and counter
# logins (their secrets files) issue, call and complete one ticket.
TICKET_SCRIPT = """
import json, sys
from pathlib import Path
from mqtt_bus.client import BusClient
from qms.context import AppContext
ctx = AppContext.resolve()
def login(client_id, role):
    bus = BusClient(ctx.login_url(client_id), ctx.site.site, client_id, role).start()
    assert bus.wait_connected(15), f"{client_id} could not log in"
    return bus
kiosk, pad = login("kiosk-1", "kiosk"), login("counter-1", "counter")
service = ctx.config.counters[0].services[0]
issued = kiosk.request("issue_ticket", {"service": service}, timeout=15)
called = pad.request("call_next", {"counter": "1"}, timeout=15)
done = pad.request("complete", {"counter": "1"}, timeout=15)
print(json.dumps({"issued": issued, "called": called, "done": done}))
kiosk.close(); pad.close()
"""


def run(*cmd: str, timeout: float = 300, check: bool = True, **kw: object) -> subprocess.CompletedProcess[str]:
    """A command whose output is shown when it fails."""
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)  # type: ignore[call-overload]
    if check and out.returncode != 0:
        pytest.fail(f"{shlex.join(cmd)} exited {out.returncode}:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    return out


def debian_mirror() -> str:
    """The Debian mirror this machine's apt uses (debootstrap takes the same)."""
    sources = Path("/etc/apt/sources.list.d/debian.sources")
    if sources.exists():
        for line in sources.read_text().splitlines():
            if line.startswith("URIs:") and "security" not in line:
                return line.split()[1]
    return "http://deb.debian.org/debian"


def unit(root: Path, name: str) -> dict[str, str]:
    """``Key=value`` of an installed unit (last value wins)."""
    settings = {}
    for line in (root / "etc/systemd/system" / name).read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.startswith("#"):
            settings[key.strip()] = value.strip()
    return settings


def user_ids(root: Path, user: str) -> str:
    """``uid:gid`` of a user of the root."""
    for line in (root / "etc/passwd").read_text().splitlines():
        fields = line.split(":")
        if fields[0] == user:
            return f"{fields[2]}:{fields[3]}"
    raise AssertionError(f"no user {user!r} in the installed root")


def mounts_under(root: Path) -> list[str]:
    """Mount points at or below *root*, deepest first."""
    points = [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()]
    return sorted((p for p in points if p == str(root) or p.startswith(f"{root}/")), key=len, reverse=True)


@contextmanager
def fresh_root() -> Iterator[tuple[Path, str]]:
    """A debootstrapped root with /proc, /sys, /dev and a network namespace; all undone on exit."""
    work = Path(tempfile.mkdtemp(prefix="qms-install-", dir="/var/tmp"))
    root = work / "root"
    ns = f"qms-install-{os.getpid()}"
    try:
        started = time.monotonic()
        run("debootstrap", "--variant=minbase", "bookworm", str(root), debian_mirror(), timeout=600)
        print(f"debootstrap: {time.monotonic() - started:.0f} s")
        (root / "etc/apt/sources.list").unlink(missing_ok=True)
        for src in [*Path("/etc/apt").glob("sources.list"), *Path("/etc/apt/sources.list.d").glob("*.sources"),
                    *Path("/etc/apt/sources.list.d").glob("*.list")]:
            shutil.copy(src, root / src.relative_to("/"))
        for rel in HOST_CONFIG:
            src = Path("/") / rel
            if src.is_dir():
                shutil.copytree(src, root / rel, dirs_exist_ok=True)
            elif src.exists():
                shutil.copy(src, root / rel)
        local_cas = Path("/usr/local/share/ca-certificates")  # e.g. a proxy's CA: pip inside must trust it too
        if local_cas.is_dir():
            shutil.copytree(local_cas, root / local_cas.relative_to("/"), dirs_exist_ok=True)
        files = run("git", "ls-files", "-z", cwd=REPO).stdout.split("\0")
        for rel in filter(None, files):
            if (REPO / rel).is_file():
                (root / "root/qms-src" / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(REPO / rel, root / "root/qms-src" / rel)
        run("mount", "-t", "proc", "proc", str(root / "proc"))
        run("mount", "--rbind", "/sys", str(root / "sys"))
        run("mount", "--make-rslave", str(root / "sys"))
        run("mount", "--rbind", "/dev", str(root / "dev"))
        run("mount", "--make-rslave", str(root / "dev"))
        run("ip", "netns", "add", ns)
        run("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
        yield root, ns
    finally:
        subprocess.run(["ip", "netns", "delete", ns], capture_output=True)
        for point in mounts_under(root):
            subprocess.run(["umount", "-R", point], capture_output=True)
        left = mounts_under(root)
        for point in left:  # a busy mount: detach it lazily, and never walk into it below
            subprocess.run(["umount", "-R", "-l", point], capture_output=True)
        if mounts_under(root):
            raise AssertionError(f"mounts left under {root}: {mounts_under(root)}; not removing it")
        subprocess.run(["rm", "-rf", "--one-file-system", str(work)], check=False)


def in_root(root: Path, ns: str, *cmd: str, user: str | None = None, env: dict[str, str] | None = None,
            popen: bool = False, **kw: object) -> subprocess.CompletedProcess[str] | subprocess.Popen[bytes]:
    """A command inside the root and its network namespace (as *user* when given)."""
    spec = [f"--userspec={user_ids(root, user)}"] if user else []
    argv = ["ip", "netns", "exec", ns, "chroot", *spec, str(root), *cmd]
    environment = {"PATH": PATH, "LANG": "C.UTF-8", "HOME": "/root" if user is None else "/var/lib/qms", **(env or {})}
    if popen:
        return subprocess.Popen(argv, env=environment, stdin=subprocess.DEVNULL, start_new_session=True, **kw)  # type: ignore[call-overload]
    return run(*argv, env=environment, **kw)  # type: ignore[arg-type]


def stop(proc: subprocess.Popen[bytes] | None) -> None:
    """Stop a process group started by :func:`in_root`."""
    if proc is None or proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=15)


@pytest.mark.timeout(900)
def test_install_on_a_fresh_debian_root_serves_a_ticket():
    if os.geteuid() != 0:
        pytest.skip("!!! the fresh-root install test needs root (debootstrap, chroot, mounts, netns); CI is root")
    for tool in ("debootstrap", "chroot", "ip", "git"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed: scripts/setup installs it (apt-get install debootstrap iproute2)")
    started = time.monotonic()
    mosquitto = hub = None
    with fresh_root() as (root, ns):
        try:
            # 1. the install, as a technician runs it (network: the host's, for apt and pip)
            install = run("chroot", str(root), "bash", "/root/qms-src/deploy/install-pi.sh", "--roles", ROLES,
                          "--no-systemd", env={"PATH": PATH, "LANG": "C.UTF-8", "HOME": "/root"}, timeout=600)
            print(f"install: {time.monotonic() - started:.0f} s since start")
            env_file = root / "etc/qms/qms.env"
            assert read_env(env_file)["QMS_ROLES"] == ROLES
            assert oct(env_file.stat().st_mode & 0o777) == "0o640"
            secrets = root / "etc/qms/secrets"
            assert sorted(p.name for p in secrets.iterdir()) == ["counter-1", "display-1", "hub", "kiosk-1",
                                                                 "monitor-technician"]
            qms_ids = user_ids(root, "qms")
            for path in [*secrets.iterdir(), root / "etc/qms/credentials.json"]:
                assert oct(path.stat().st_mode & 0o777) == "0o600", path
            assert all(f"{p.stat().st_uid}:{p.stat().st_gid}" == qms_ids for p in secrets.iterdir())
            passwords = json.loads((root / "etc/qms/credentials.json").read_text())
            assert not [d for d, pw in passwords.items() if pw in install.stdout + install.stderr]
            wants = root / "etc/systemd/system/multi-user.target.wants"
            assert {"qms-hub.service", "qms-kiosk.service", "qms-display.service", "qms-counter@1.service",
                    "qms-web.service"} <= {
                p.name for p in wants.iterdir()}
            assert (root / "etc/systemd/system/timers.target.wants/qms-backup.timer").is_symlink()
            assert (root / "etc/systemd/system/timers.target.wants/qms-report.timer").is_symlink()
            assert "local stratum 10" in (root / "etc/chrony/conf.d/qms.conf").read_text()

            # 2. systemd-analyze verify of every installed unit
            units = ["qms-hub.service", "qms-kiosk.service", "qms-display.service", "qms-counter@1.service",
                     "qms-web.service",
                     "qms-backup.service", "qms-backup.timer", "qms-report.service", "qms-report.timer"]
            verify = in_root(root, ns, "systemd-analyze", "verify", *(f"/etc/systemd/system/{u}" for u in units),
                             check=False)
            assert verify.returncode == 0 and "qms-" not in verify.stderr, verify.stderr

            # 3. the broker exactly as installed (Debian's mosquitto.conf + conf.d/qms.conf)
            link = root / "etc/qms/site.yaml"  # on the hub board, a link into the data dir (absolute in the root)
            assert link.is_symlink() and os.readlink(link) == "/var/lib/qms/config/site.yaml"
            site_yaml = root / "var/lib/qms/config/site.yaml"
            assert f"{site_yaml.stat().st_uid}:{site_yaml.stat().st_gid}" == qms_ids
            site_yaml.write_text(  # any hour: the test may run at night
                site_yaml.read_text().replace("enforce: true", "enforce: false", 1))
            (root / "run/mosquitto").mkdir(exist_ok=True)
            shutil.chown(root / "run/mosquitto", *map(int, user_ids(root, "mosquitto").split(":")))
            mosquitto = in_root(root, ns, "/usr/sbin/mosquitto", "-c", "/etc/mosquitto/mosquitto.conf", popen=True)
            assert wait_port(ns, 1883), (root / "var/log/mosquitto/mosquitto.log").read_text()[-2000:]

            # 4. qms hub as its unit runs it, telling "systemd" it is ready
            hub_unit = unit(root, "qms-hub.service")
            assert hub_unit["Type"] == "notify"
            notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            notify.bind(str(root / "run/qms-notify.sock"))
            os.chmod(root / "run/qms-notify.sock", 0o666)
            notify.settimeout(60)
            settings = read_env(root / hub_unit["EnvironmentFile"].lstrip("-/"))
            hub = in_root(root, ns, *shlex.split(hub_unit["ExecStart"]), user=hub_unit["User"],
                          env={**settings, "NOTIFY_SOCKET": "/run/qms-notify.sock", "WATCHDOG_USEC": "30000000"},
                          popen=True)
            try:
                assert notify.recv(64) == b"READY=1"
            finally:
                notify.close()

            # 5. issue, call and complete a ticket with the installed kiosk and counter logins
            (root / "tmp/qms-ticket.py").write_text(TICKET_SCRIPT)
            out = in_root(root, ns, "/opt/qms/.venv/bin/python", "/tmp/qms-ticket.py", user="qms", timeout=120)
            result = json.loads(out.stdout.strip().splitlines()[-1])
            ticket = result["issued"]["result"]["ticket"]
            assert result["called"]["result"]["ticket"]["id"] == ticket["id"]
            assert result["done"]["result"]["ticket"]["status"] == "done"
            hub_log = (root / "var/lib/qms/logs/hub.log")
            assert passwords[HUB_CLIENT_ID] not in hub_log.read_text()
            assert oct(hub_log.stat().st_mode & 0o777) == "0o640"

            # 6. the web administration as its unit runs it edits the config (a link into the data dir)
            in_root(root, ns, "/opt/qms/.venv/bin/qms", "web", "user", "add", "kythuat", "--role", "technician",
                    "--password-stdin", user="qms", input="mat-khau-web\n", env=settings)
            web_unit = unit(root, "qms-web.service")
            web = in_root(root, ns, *shlex.split(web_unit["ExecStart"]), user=web_unit["User"], env=settings,
                          popen=True)
            try:
                assert wait_port(ns, 8080, 60), "qms web did not listen on 8080"
                (root / "tmp/qms-web.py").write_text(WEB_SCRIPT)
                saved = in_root(root, ns, "/opt/qms/.venv/bin/python", "/tmp/qms-web.py", "mat-khau-web",
                                timeout=60)
                assert saved.stdout.split()[0] == "200", saved.stdout  # redirected to the page, not an error
            finally:
                stop(web)
            assert "Nghỉ lễ 2/9" in site_yaml.read_text() and link.is_symlink()

            # 7. qms doctor on the healthy board (as documented), then with the broker stopped
            healthy = in_root(root, ns, "/opt/qms/.venv/bin/qms", "doctor", user="qms", check=False, timeout=120)
            print(healthy.stdout)
            assert "Traceback" not in healthy.stderr, healthy.stderr
            assert "mqtt://127.0.0.1:1883" in healthy.stdout, "doctor does not check the board's broker"
            stop(mosquitto)
            down = in_root(root, ns, "/opt/qms/.venv/bin/qms", "doctor", user="qms", check=False, timeout=120)
            assert down.returncode != 0 and check_line(down.stdout, "broker").startswith("✗"), down.stdout
            assert "Traceback" not in down.stderr, down.stderr
        finally:
            stop(hub)
            stop(mosquitto)
        rerun_checks(root)
    print(f"fresh-root install test: {time.monotonic() - started:.0f} s")
    check_healthy_doctor(healthy)


def install_again(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the installed checkout's installer again inside the root."""
    return run("chroot", str(root), "bash", "/root/qms-src/deploy/install-pi.sh", *args, "--no-systemd",
               env={"PATH": PATH, "LANG": "C.UTF-8", "HOME": "/root"}, timeout=600, check=False)


def enabled_units(root: Path) -> set[str]:
    """qms units enabled in the root."""
    return {p.name for wants in (root / "etc/systemd/system").glob("*.wants") for p in wants.iterdir()
            if p.name.startswith("qms-")}


def rerun_checks(root: Path) -> None:
    """A broken broker config fails the install loudly; a role change and a plain re-run do what they say."""
    broken = root / "etc/mosquitto/conf.d/broken.conf"
    broken.write_text("pid_file /run/mosquitto/other.pid\n")  # set twice: mosquitto refuses to start
    out = install_again(root)
    assert out.returncode != 0, out.stdout
    assert "Duplicate pid_file" in out.stderr and "mosquitto does not start" in out.stderr, out.stderr
    broken.unlink()

    # the hub board bridged to a province (an unreachable test address: mosquitto starts and keeps retrying)
    out = install_again(root, "--province", "192.0.2.20")
    assert out.returncode != 0 and "--province needs --province-password FILE" in out.stderr, out.stderr
    (root / "root/site-pw").write_text("pw-of-this-site\n")
    out = install_again(root, "--province", "192.0.2.20", "--province-password", "/root/site-pw")
    assert out.returncode == 0, out.stdout + out.stderr
    bridge = root / "etc/mosquitto/conf.d/qms-province.conf"
    text = bridge.read_text()
    assert "address 192.0.2.20:8883" in text and "remote_password pw-of-this-site" in text, text
    assert "remote_username site-" in text and "cleansession false" in text
    assert oct(bridge.stat().st_mode & 0o777) == "0o640"
    assert f"{bridge.stat().st_uid}:{bridge.stat().st_gid}" == f"0:{user_ids(root, 'mosquitto').split(':')[1]}"
    assert "pw-of-this-site" not in out.stdout + out.stderr

    out = install_again(root, "--roles", "kiosk counter@2", "--hub", "192.0.2.10", "--logins", "/etc/qms/logins.txt")
    assert out.returncode == 0, out.stdout + out.stderr
    assert not bridge.exists(), "only the hub board bridges to the province"
    assert enabled_units(root) == {"qms-kiosk.service", "qms-counter@2.service"}
    assert sorted(p.name for p in (root / "etc/qms/secrets").iterdir()) == ["counter-2", "kiosk-1",
                                                                          "monitor-technician"]
    assert "server 192.0.2.10 iburst" in (root / "etc/chrony/conf.d/qms.conf").read_text()

    out = install_again(root)  # no options: the saved roles and hub
    assert out.returncode == 0, out.stdout + out.stderr
    settings = read_env(root / "etc/qms/qms.env")
    assert (settings["QMS_ROLES"], settings["QMS_BROKER"]) == ("kiosk counter@2", "mqtt://192.0.2.10:1883")
    assert enabled_units(root) == {"qms-kiosk.service", "qms-counter@2.service"}


def check_line(report: str, name: str) -> str:
    """The ✓/✗/! line of doctor's check *name* (not the header, not another check naming it)."""
    return next((ln for ln in report.splitlines() if ln[:1] in "✓✗!" and name in ln and "hub" not in ln), "")


def check_healthy_doctor(doctor: subprocess.CompletedProcess[str]) -> None:
    """All ✓ but the sound card (a test root has none), exit 0 when nothing is ✗; the broker ✓.

    The broker check needs doctor to log in as ``monitor-technician`` (the doctor helper's
    branch); until that is merged, this check is reported as xfail, never silently passed.
    """
    problems = [ln for ln in doctor.stdout.splitlines() if ln.startswith("✗") and "problem" not in ln]
    broker = check_line(doctor.stdout, "broker")
    if "✓" not in broker and "monitor-technician" not in (REPO / "qms" / "doctor.py").read_text():
        pytest.xfail(f"INTEGRATOR: qms doctor does not log in as monitor-technician yet: {broker.strip()}")
    assert "✓" in broker, doctor.stdout
    assert all("audio" in ln for ln in problems), doctor.stdout
    if not problems:
        assert doctor.returncode == 0, doctor.stdout


def wait_port(ns: str, port: int, timeout: float = 15) -> bool:
    """True once something listens on 127.0.0.1:*port* inside the namespace."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        probe = subprocess.run(["ip", "netns", "exec", ns, "bash", "-c", f"exec 3<>/dev/tcp/127.0.0.1/{port}"],
                               capture_output=True)
        if probe.returncode == 0:
            return True
        time.sleep(0.2)
    return False
