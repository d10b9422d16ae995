#!/usr/bin/env bash
# Install qms on a Raspberry Pi (64-bit Raspberry Pi OS, Debian 12) or any Debian 12 machine.
#
#   sudo bash deploy/install-pi.sh --roles "hub display"                      # the hub board
#   sudo bash deploy/install-pi.sh --roles kiosk --hub 192.168.1.10 --logins /media/usb/logins.txt
#   sudo bash deploy/install-pi.sh                                            # again, same roles
#
# Options:
#   --roles "R ..."   what this board runs: hub, kiosk, display, counter@ID (saved in qms.env)
#   --hub HOST        the hub board's LAN address (boards without the hub role; saved in qms.env)
#   --logins FILE     lines "client-id password" from the hub's /etc/qms/logins.txt: the logins
#                     of this board's services (without it, missing passwords are asked, hidden)
#   --province HOST[:PORT]   hub board: bridge this center's mosquitto to the provincial broker (port
#                     8883 by default; docs/province.md); "none" removes the bridge. Kept on a re-run.
#   --province-password FILE  this site's password at the province (secrets/site-SITE from the
#                     province's `qms province broker-config`)
#   --province-ca PEM the provincial broker's CA certificate (TLS; without it the link is plain MQTT)
#   --no-systemd      do not start, stop or reload services (automatic when systemd is not running)
#
# What it does, each step safe to run again:
#   1. Debian packages (mosquitto, chrony, espeak-ng, SDL/GL runtime, fonts, python3-venv)
#   2. a service user 'qms' in the groups video, render, input, dialout, audio
#   3. this checkout copied to /opt/qms, installed into its own venv (/opt/qms/.venv) from the
#      copy plus PyPI for the dependencies
#   4. /etc/qms/site.yaml (kept if it exists) and /etc/qms/qms.env (roles, broker: no passwords)
#   5. hub board: mosquitto (conf.d/qms.conf), one login per device (qms credentials), and with
#      --province the bridge to the province (conf.d/qms-province.conf)
#   6. /etc/qms/secrets/<client-id>: the login of each service of this board (0600, owner qms)
#   7. chrony: the hub serves time to the LAN; other boards take it from the hub
#   8. systemd units, the daily backup and monthly report timers and, on the hub board, the web
#      administration (qms-web, http://HUB-IP:8080/): exactly the roles' units enabled
set -euo pipefail

PREFIX=/opt/qms
ETC=/etc/qms
DATA=/var/lib/qms
SECRETS="$ETC/secrets"
SRC="$(cd "$(dirname "$0")/.." && pwd)"
ROLES=""
HUB=""
LOGINS=""
PROVINCE=""
PROVINCE_PW=""
PROVINCE_CA=""
SYSTEMD=yes
[ -d /run/systemd/system ] || SYSTEMD=no

die() { echo "install-pi: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
    case "$1" in
        --roles) [ $# -ge 2 ] || die "--roles needs a value, e.g. --roles \"hub display\""; ROLES="$2"; shift 2 ;;
        --hub) [ $# -ge 2 ] || die "--hub needs the hub board's address, e.g. --hub 192.168.1.10"; HUB="$2"; shift 2 ;;
        --logins) [ $# -ge 2 ] || die "--logins needs a file"; LOGINS="$2"; shift 2 ;;
        --province) [ $# -ge 2 ] || die "--province needs the provincial broker, e.g. --province mqtt.lamdong.gov.vn"; PROVINCE="$2"; shift 2 ;;
        --province-password) [ $# -ge 2 ] || die "--province-password needs a file"; PROVINCE_PW="$2"; shift 2 ;;
        --province-ca) [ $# -ge 2 ] || die "--province-ca needs a PEM file"; PROVINCE_CA="$2"; shift 2 ;;
        --no-systemd) SYSTEMD=no; shift ;;
        -h|--help) sed -n '2,31p' "$0"; exit 0 ;;
        *) echo "install-pi: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

[ "$(id -u)" -eq 0 ] || die "run as root: sudo bash $0"
[ -z "$LOGINS" ] || [ -r "$LOGINS" ] || die "cannot read the logins file $LOGINS"
if [ -n "$PROVINCE" ] && [ "$PROVINCE" != none ]; then
    [[ "$PROVINCE" =~ ^[A-Za-z0-9.-]+(:[0-9]+)?$ ]] || die "--province $PROVINCE: give HOST or HOST:PORT"
    [ -r "$PROVINCE_PW" ] || die "--province needs --province-password FILE (secrets/site-SITE made by the province's qms province broker-config)"
    [ -z "$PROVINCE_CA" ] || [ -r "$PROVINCE_CA" ] || die "cannot read the CA certificate $PROVINCE_CA"
fi

step() { printf '\n==> %s\n' "$*"; }
# systemctl calls that need a running systemd; enable/disable work without it (symlinks only).
live() { if [ "$SYSTEMD" = yes ]; then systemctl "$@"; fi; }

# The saved settings, for a plain re-run.
saved() {
    # shellcheck source=/dev/null
    if [ -f "$ETC/qms.env" ]; then (set +u; . "$ETC/qms.env" && eval "echo \"\${$1:-}\""); fi
}
[ -n "$ROLES" ] || ROLES="$(saved QMS_ROLES)"
[ -n "$ROLES" ] || die "no roles: pass --roles \"hub display\" (hub, kiosk, display, counter@ID)"
ROLES="$(echo "$ROLES" | xargs)"
IS_HUB=no
IDS=(monitor-technician)   # the broker logins this board needs: one per service, and doctor's
for role in $ROLES; do
    case "$role" in
        hub) IS_HUB=yes; IDS+=(hub) ;;
        kiosk) IDS+=(kiosk-1) ;;
        display) IDS+=(display-1) ;;
        counter@*)
            id="${role#counter@}"
            [[ "$id" =~ ^[a-z0-9][a-z0-9-]*$ ]] || die "bad role '$role': counter@ID with ID as in site.yaml, e.g. counter@1"
            IDS+=("counter-$id") ;;
        *) die "unknown role '$role': use hub, kiosk, display, counter@ID" ;;
    esac
done
if [ "$IS_HUB" = no ]; then
    if [ -z "$HUB" ]; then
        broker="$(saved QMS_BROKER)"; HUB="${broker#mqtt://}"; HUB="${HUB%:1883}"
    fi
    if [[ ! "$HUB" =~ ^[A-Za-z0-9.:-]+$ ]] || [[ "$HUB" =~ ^(127\.|localhost$) ]]; then
        die "this board has no hub role: pass --hub HUB-IP (the hub board's LAN address)"
    fi
fi

step "Debian packages"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    python3 python3-venv python3-dev mosquitto mosquitto-clients chrony systemd espeak-ng sox \
    alsa-utils libgl1 libgl1-mesa-dri libegl1 libgles2 libgbm1 libdrm2 libmtdev1 fonts-dejavu-core rsync \
    ca-certificates >/dev/null

step "service user qms"
if ! id qms >/dev/null 2>&1; then
    useradd --system --user-group --home-dir "$DATA" --create-home --shell /usr/sbin/nologin qms
fi
for group in video render input dialout audio; do
    if getent group "$group" >/dev/null; then
        usermod -aG "$group" qms
    fi
done

step "code in $PREFIX"
mkdir -p "$PREFIX"
rsync -a --delete --exclude .git --exclude .venv --exclude '__pycache__' --exclude '*.egg-info' "$SRC/" "$PREFIX/"
if [ ! -x "$PREFIX/.venv/bin/python" ]; then
    python3 -m venv "$PREFIX/.venv"
fi
# the project from the copy of this checkout; its dependencies from PyPI
"$PREFIX/.venv/bin/python" -m pip install -q -e "$PREFIX"
# byte-compile now: the services run as qms and cannot write __pycache__ under root-owned /opt/qms,
# so without this every start compiles every module again (~35 ms of each `qms` command)
"$PREFIX/.venv/bin/python" -m compileall -q -x '/(\.venv|tests|bench)/' "$PREFIX" >/dev/null || true
"$PREFIX/.venv/bin/python" "$PREFIX/scripts/build_voice_pack.py" --lang vi --out "$PREFIX/assets/voice/vi" >/dev/null \
    || echo "install-pi: voice pack not built (espeak-ng missing?); announcements stay silent"
QMS="$PREFIX/.venv/bin/qms"

step "configuration in $ETC"
install -d -m 0755 "$ETC"
install -d -m 0750 -o qms -g qms "$DATA"
if [ -L "$ETC/site.yaml" ] && [ ! -e "$ETC/site.yaml" ]; then
    rm -f "$ETC/site.yaml"   # points to a config that is gone (data dir wiped): start again below
fi
if [ ! -f "$ETC/site.yaml" ]; then
    install -m 0644 "$PREFIX/config/commune.yaml" "$ETC/site.yaml"
    echo "install-pi: wrote $ETC/site.yaml from the default commune center: edit it, then 'qms config check'"
fi
if [ "$IS_HUB" = yes ] && [ ! -L "$ETC/site.yaml" ]; then
    # the web administration (qms-web, user qms) edits the center's config: the file lives in the data
    # dir, and /etc/qms/site.yaml (the path qms.env and the docs use) points to it
    install -d -m 0750 -o qms -g qms "$DATA/config"
    install -m 0644 -o qms -g qms "$ETC/site.yaml" "$DATA/config/site.yaml"
    ln -sfn "$DATA/config/site.yaml" "$ETC/site.yaml"
    echo "  $ETC/site.yaml -> $DATA/config/site.yaml (the web administration edits it)"
fi
[ -f "$ETC/qms.env" ] || install -m 0640 "$PREFIX/config/systemd/qms.env.example" "$ETC/qms.env"
if [ "$IS_HUB" = yes ]; then BROKER="mqtt://127.0.0.1:1883"; else BROKER="mqtt://$HUB:1883"; fi
QMS_ENV_FILE="" "$PREFIX/.venv/bin/python" -c '
import sys
from pathlib import Path
from qms.envfile import update_env
keys = ("QMS_ROLES", "QMS_CONFIG", "QMS_DATA_DIR", "QMS_BROKER", "QMS_SECRETS_DIR")
update_env(Path(sys.argv[1]), dict(zip(keys, sys.argv[2:])))
' "$ETC/qms.env" "$ROLES" "$ETC/site.yaml" "$DATA" "$BROKER" "$SECRETS"
chown root:qms "$ETC/qms.env"
chmod 0640 "$ETC/qms.env"
echo "  $ETC/qms.env: QMS_ROLES=\"$ROLES\" QMS_BROKER=$BROKER"
QMS_ENV_FILE="$ETC/qms.env" "$QMS" config check

if [ "$IS_HUB" = yes ]; then
    step "mosquitto with one login per device"
    install -d -m 0750 -o root -g mosquitto /etc/mosquitto/qms
    install -d -m 0755 /etc/mosquitto/conf.d
    # the passwords stay in root-only files (piped: qms credentials shows them only on a terminal)
    QMS_ENV_FILE="$ETC/qms.env" "$QMS" credentials --out /etc/mosquitto/qms --secrets "$ETC/credentials.json" \
        --logins "$ETC/logins.txt" --hub-host "$(hostname -I 2>/dev/null | cut -d' ' -f1)" | sed 's/^/  /'
    chown mosquitto:mosquitto /etc/mosquitto/qms/passwd /etc/mosquitto/qms/acl
    chmod 0600 /etc/mosquitto/qms/passwd "$ETC/credentials.json" "$ETC/logins.txt"
    chmod 0640 /etc/mosquitto/qms/acl
    install -m 0644 "$PREFIX/config/mosquitto/qms.conf" /etc/mosquitto/conf.d/qms.conf
    if [ "$PROVINCE" = none ]; then
        rm -f /etc/mosquitto/conf.d/qms-province.conf
        echo "  no bridge to the province"
    elif [ -n "$PROVINCE" ]; then
        province_host="${PROVINCE%%:*}"; province_port=8883
        [[ "$PROVINCE" != *:* ]] || province_port="${PROVINCE##*:}"
        tls=()
        if [ -n "$PROVINCE_CA" ]; then
            install -m 0644 "$PROVINCE_CA" /etc/mosquitto/qms/province-ca.pem
            tls=(--cafile /etc/mosquitto/qms/province-ca.pem)
        fi
        QMS_ENV_FILE="$ETC/qms.env" "$QMS" province bridge-config --province-host "$province_host" \
            --province-port "$province_port" --password-file "$PROVINCE_PW" "${tls[@]}" \
            --out /etc/mosquitto/conf.d/qms-province.conf 2>&1 | sed 's/^/  /'
        chown root:mosquitto /etc/mosquitto/conf.d/qms-province.conf
        chmod 0640 /etc/mosquitto/conf.d/qms-province.conf
    fi
    LOGINS="${LOGINS:-$ETC/logins.txt}"
    systemctl enable mosquitto >/dev/null 2>&1 || true
    if [ "$SYSTEMD" = yes ]; then
        if ! systemctl restart mosquitto; then
            journalctl -u mosquitto -n 20 --no-pager >&2 || true
            tail -n 20 /var/log/mosquitto/mosquitto.log >&2 2>/dev/null || true
            die "mosquitto does not start with /etc/mosquitto/mosquitto.conf (lines above)"
        fi
    else
        # no service manager: start the broker exactly as installed for 3 s; a config error ends it at
        # once. In a private network namespace when possible, so a broker already running here does
        # not make the check fail on the port.
        install -d -m 0755 -o mosquitto -g mosquitto /run/mosquitto
        netns=(); if unshare --net true 2>/dev/null; then netns=(unshare --net); fi
        rc=0; "${netns[@]}" timeout 3 mosquitto -c /etc/mosquitto/mosquitto.conf >/tmp/qms-mosquitto-check.log 2>&1 || rc=$?
        if [ "$rc" -ne 124 ]; then
            cat /tmp/qms-mosquitto-check.log >&2
            tail -n 5 /var/log/mosquitto/mosquitto.log >&2 2>/dev/null || true
            die "mosquitto does not start with /etc/mosquitto/mosquitto.conf (exit $rc, lines above)"
        fi
        rm -f /tmp/qms-mosquitto-check.log
    fi
else
    systemctl disable mosquitto >/dev/null 2>&1 || true
    live stop mosquitto || true
    rm -f /etc/mosquitto/conf.d/qms-province.conf  # only the hub board bridges to the province
fi

step "broker logins of this board in $SECRETS"
install -d -m 0700 -o qms -g qms "$SECRETS"
for id in "${IDS[@]}"; do
    password=""
    if [ -n "$LOGINS" ]; then
        password="$(awk -v id="$id" '$1 == id { print $2; exit }' "$LOGINS")"
    fi
    if [ -z "$password" ] && [ -s "$SECRETS/$id" ]; then
        continue  # installed before: keep it
    fi
    if [ -z "$password" ]; then
        [ -t 0 ] || die "no password for '$id': pass --logins FILE (lines 'client-id password' from the hub's $ETC/logins.txt)"
        read -r -s -p "Password of '$id' (from the hub's $ETC/logins.txt; not shown): " password; echo
        [ -n "$password" ] || die "no password for '$id'"
    fi
    (umask 077 && printf '%s\n' "$password" > "$SECRETS/$id.tmp")
    chown qms:qms "$SECRETS/$id.tmp"
    mv -f "$SECRETS/$id.tmp" "$SECRETS/$id"
    echo "  $id"
done
for file in "$SECRETS"/*; do   # logins of services this board no longer runs
    [ -e "$file" ] || continue
    name="$(basename "$file")"
    [[ " ${IDS[*]} " == *" $name "* ]] || { rm -f "$file"; echo "  removed $name"; }
done

step "time: chrony"
install -d -m 0755 /etc/chrony/conf.d
if [ "$IS_HUB" = yes ]; then
    cat > /etc/chrony/conf.d/qms.conf <<'EOF'
# written by qms deploy/install-pi.sh: this hub board serves time to the center's boards,
# and keeps serving it (stratum 10) when the internet is down.
allow 10.0.0.0/8
allow 172.16.0.0/12
allow 192.168.0.0/16
local stratum 10
EOF
else
    cat > /etc/chrony/conf.d/qms.conf <<EOF
# written by qms deploy/install-pi.sh: take the time from the hub board, even without internet.
server $HUB iburst prefer
EOF
fi
systemctl enable chrony >/dev/null 2>&1 || true
live restart chrony || echo "install-pi: chrony did not restart; see journalctl -u chrony"

step "systemd units: $ROLES"
install -m 0644 "$PREFIX"/config/systemd/qms-*.service "$PREFIX"/config/systemd/qms-*.timer /etc/systemd/system/
live daemon-reload
wanted=()
for role in $ROLES; do
    case "$role" in
        counter@*) wanted+=("qms-counter@${role#counter@}.service") ;;
        *) wanted+=("qms-$role.service") ;;
    esac
done
[ "$IS_HUB" = no ] || wanted+=(qms-web.service qms-backup.timer qms-report.timer)
# everything of ours enabled before, including old counter pads, unless still wanted
enabled=(qms-hub.service qms-kiosk.service qms-display.service qms-web.service qms-backup.timer qms-report.timer)
for link in /etc/systemd/system/*.wants/qms-counter@*.service; do
    [ -e "$link" ] || [ -L "$link" ] || continue
    enabled+=("$(basename "$link")")
done
for unit in "${enabled[@]}"; do
    [[ " ${wanted[*]} " == *" $unit "* ]] && continue
    systemctl disable "$unit" >/dev/null 2>&1 || true
    live stop "$unit" >/dev/null 2>&1 || true
done
for unit in "${wanted[@]}"; do
    systemctl enable "$unit" >/dev/null 2>&1 || die "could not enable $unit"
    live restart "$unit"
    echo "  enabled $unit"
done
[ "$SYSTEMD" = yes ] || echo "  (no systemd running: units enabled, not started)"

step "done"
echo "Check everything with:  sudo -u qms $QMS doctor"
echo "Logs: journalctl -u 'qms-*' -f   and   $DATA/logs/"
if [ "$IS_HUB" = yes ]; then
    echo "Logins for the other boards: $ETC/logins.txt (root only). Copy it to a USB stick for"
    echo "  their install (--logins), then delete the copy."
    echo "Web administration: http://$(hostname -I 2>/dev/null | cut -d' ' -f1):8080/ once it has an account:"
    echo "  sudo -u qms $QMS web user add NAME --role technician"
fi
