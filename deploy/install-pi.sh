#!/usr/bin/env bash
# Install qms on a Raspberry Pi (64-bit Raspberry Pi OS, Debian 12) or any Debian 12 machine.
#
#   sudo bash deploy/install-pi.sh            # roles from /etc/qms/qms.env (QMS_ROLES)
#   sudo bash deploy/install-pi.sh --roles "hub kiosk display counter@1"
#
# What it does, each step safe to run again:
#   1. Debian packages (mosquitto, espeak-ng, SDL/GL runtime, fonts, python3-venv)
#   2. a service user 'qms' in the groups video, render, input, dialout, audio
#   3. the code in /opt/qms with its own venv (/opt/qms/.venv)
#   4. /etc/qms/site.yaml and /etc/qms/qms.env (kept if they exist)
#   5. on the hub board: mosquitto with the site config, one login per device and the ACL
#   6. systemd units qms-hub, qms-kiosk, qms-display, qms-counter@ID; enables exactly the roles
set -euo pipefail

PREFIX=/opt/qms
ETC=/etc/qms
DATA=/var/lib/qms
SRC="$(cd "$(dirname "$0")/.." && pwd)"
ROLES=""

while [ $# -gt 0 ]; do
    case "$1" in
        --roles) ROLES="$2"; shift 2 ;;
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
        *) echo "install-pi: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

if [ "$(id -u)" -ne 0 ]; then
    echo "install-pi: run as root: sudo bash $0" >&2
    exit 1
fi

step() { printf '\n==> %s\n' "$*"; }

step "Debian packages"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    python3 python3-venv python3-dev mosquitto mosquitto-clients espeak-ng sox alsa-utils \
    libgl1 libgl1-mesa-dri libegl1 libgles2 libgbm1 libdrm2 libmtdev1 fonts-dejavu-core rsync >/dev/null

step "service user qms"
if ! id qms >/dev/null 2>&1; then
    useradd --system --home-dir "$DATA" --create-home --shell /usr/sbin/nologin qms
fi
for group in video render input dialout audio; do
    if getent group "$group" >/dev/null; then
        usermod -aG "$group" qms
    fi
done

step "code in $PREFIX"
mkdir -p "$PREFIX"
rsync -a --delete --exclude .git --exclude .venv --exclude '__pycache__' "$SRC/" "$PREFIX/"
if [ ! -x "$PREFIX/.venv/bin/python" ]; then
    python3 -m venv "$PREFIX/.venv"
fi
"$PREFIX/.venv/bin/python" -m pip install -q --upgrade pip
"$PREFIX/.venv/bin/python" -m pip install -q -e "$PREFIX"
"$PREFIX/.venv/bin/python" "$PREFIX/scripts/build_voice_pack.py" --lang vi --out "$PREFIX/assets/voice/vi" >/dev/null \
    || echo "install-pi: voice pack not built (espeak-ng missing?); announcements stay silent"

step "configuration in $ETC"
mkdir -p "$ETC" "$DATA"
chown qms:qms "$DATA"
if [ ! -f "$ETC/site.yaml" ]; then
    cp "$PREFIX/config/commune.yaml" "$ETC/site.yaml"
    echo "install-pi: wrote $ETC/site.yaml from the default commune center: edit it, then 'qms config check'"
fi
if [ ! -f "$ETC/qms.env" ]; then
    cp "$PREFIX/config/systemd/qms.env.example" "$ETC/qms.env"
fi
if [ -z "$ROLES" ]; then
    # shellcheck source=/dev/null
    ROLES="$(. "$ETC/qms.env" && echo "${QMS_ROLES:-}")"
fi
if [ -z "$ROLES" ]; then
    echo "install-pi: no roles: set QMS_ROLES in $ETC/qms.env or pass --roles" >&2
    exit 2
fi
QMS="$PREFIX/.venv/bin/qms --config $ETC/site.yaml --data-dir $DATA"
$QMS config check

case " $ROLES " in
    *" hub "*)
        step "mosquitto with one login per device"
        mkdir -p /etc/mosquitto/qms /etc/mosquitto/conf.d
        $QMS credentials --out /etc/mosquitto/qms --secrets "$ETC/credentials.json" --hub-host "$(hostname -I | cut -d' ' -f1)"
        chown -R mosquitto:mosquitto /etc/mosquitto/qms
        chmod 600 "$ETC/credentials.json"
        sed -e '/^pid_file/d' -e '/^user /d' "$PREFIX/config/mosquitto/mosquitto.conf" > /etc/mosquitto/conf.d/qms.conf
        systemctl enable mosquitto >/dev/null 2>&1 || true
        systemctl restart mosquitto || echo "install-pi: mosquitto did not restart; see journalctl -u mosquitto"
        ;;
esac

step "systemd units: $ROLES"
install -m 0644 "$PREFIX"/config/systemd/qms-*.service /etc/systemd/system/
systemctl daemon-reload
for unit in qms-hub qms-kiosk qms-display; do
    systemctl disable --now "$unit.service" >/dev/null 2>&1 || true
done
for role in $ROLES; do
    case "$role" in
        hub|kiosk|display) unit="qms-$role.service" ;;
        counter@*) unit="qms-counter@${role#counter@}.service" ;;
        *) echo "install-pi: unknown role '$role' (hub, kiosk, display, counter@ID)" >&2; exit 2 ;;
    esac
    systemctl enable --now "$unit"
    echo "  enabled $unit"
done

step "done"
echo "Check everything with:  sudo -u qms $QMS doctor"
echo "Logs: journalctl -u 'qms-*' -f   and   $DATA/logs/"
