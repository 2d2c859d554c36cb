#!/bin/sh
# Install or upgrade raild on Raspberry Pi OS Bookworm (Pi Zero 2 W to Pi 4; a Pi 5
# with a grbl board).
#
#   sudo scripts/install.sh             install, or upgrade in place (safe to re-run)
#   scripts/install.sh --dry-run        print every action without doing any of it
#   options: --gvfs-fix / --no-gvfs-fix  answer the desktop-image question up front
#            --drive pigpio|grbl         which drive times the steps (default: the one
#                                        /etc/raild/raild.toml names, else pigpio)
#
# With the grbl drive (a grbl board on USB serial, docs/hardware.md) there is no
# pigpiod: raild's unit does not depend on it, and the raild user joins dialout
# for the serial device. A Pi 5 is accepted only with the grbl drive.
#
# What it does: apt packages (pigpiod, python3-venv, libgphoto2's udev rules),
# a `raild` system user in plugdev, a venv in /opt/raild/venv with raild from this
# checkout, /etc/raild/raild.toml from config/raild.toml (never over yours),
# the systemd units (pigpiod on localhost only) and a udev rule giving cameras to
# plugdev, then enables and (re)starts the services.
#
# Environment overrides, for the tests and for unusual systems (see docs/install.md):
#   RAILD_ROOT        directory standing in for / (only with --dry-run)
#   RAILD_MODEL       board model instead of /proc/device-tree/model
#   RAILD_CPUINFO     file read instead of /proc/cpuinfo (for the revision code)
#   RAILD_ARCH        Debian architecture instead of `dpkg --print-architecture`
#   RAILD_OS_RELEASE  file read instead of /etc/os-release
#   RAILD_PIGPIOD_PKG yes|no: whether apt offers the pigpiod package (default: ask apt)
#   RAILD_SRC         raild checkout to install (default: the one holding this script)
#   RAILD_DRIVE       pigpio|grbl, as --drive
set -eu

PROG=raild-install
DRY_RUN=0
GVFS_FIX=ask
DRIVE=${RAILD_DRIVE:-}
want_drive=0
for arg in "$@"; do
    if [ "$want_drive" = 1 ]; then DRIVE=$arg; want_drive=0; continue; fi
    case "$arg" in
        --dry-run) DRY_RUN=1 ;;
        --drive) want_drive=1 ;;
        --drive=*) DRIVE=${arg#--drive=} ;;
        --gvfs-fix) GVFS_FIX=yes ;;
        --no-gvfs-fix) GVFS_FIX=no ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) echo "$PROG: unknown option $arg (see --help)" >&2; exit 2 ;;
    esac
done

ROOT=${RAILD_ROOT:-}
SRC=${RAILD_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
VENV=/opt/raild/venv
ETC_UNITS=/etc/systemd/system

say() { printf '%s: %s\n' "$PROG" "$*"; }
refuse() { printf '%s: refusing: %s\n' "$PROG" "$*" >&2; exit 1; }

# Every change to the system goes through run: printed always, executed unless --dry-run.
run() {
    printf '+ %s\n' "$*"
    [ "$DRY_RUN" = 1 ] || "$@"
}

[ "$want_drive" = 1 ] && { echo "$PROG: --drive needs pigpio or grbl" >&2; exit 2; }
if [ -z "$DRIVE" ]; then
    # The drive the existing config names ([drive] backend), else pigpio.
    DRIVE=$(awk '/^\[/ { s = $0 } s == "[drive]" && /^backend[[:space:]]*=/ { gsub(/.*=[[:space:]]*"|".*/, ""); print; exit }' \
        "${RAILD_ROOT:-}/etc/raild/raild.toml" 2>/dev/null || true)
    DRIVE=${DRIVE:-pigpio}
fi
case "$DRIVE" in
    pigpio|grbl) ;;
    *) echo "$PROG: unknown drive '$DRIVE' (--drive pigpio or --drive grbl)" >&2; exit 2 ;;
esac

if [ -n "$ROOT" ] && [ "$DRY_RUN" != 1 ]; then
    refuse "RAILD_ROOT is for --dry-run only; unset it to install on this system"
fi
if [ "$DRY_RUN" != 1 ] && [ "$(id -u)" != 0 ]; then
    refuse "run as root (sudo $0), or with --dry-run to see what it would do"
fi
[ "$DRY_RUN" = 1 ] && say "dry run: nothing is changed, every action is printed with +"
if [ ! -f "$SRC/pyproject.toml" ] || [ ! -f "$SRC/systemd/raild.service" ]; then
    refuse "$SRC is not a raild checkout (set RAILD_SRC)"
fi

# --- the system ---------------------------------------------------------------
OS_RELEASE=${RAILD_OS_RELEASE:-$ROOT/etc/os-release}
[ -r "$OS_RELEASE" ] || refuse "cannot read $OS_RELEASE; only Raspberry Pi OS Bookworm is supported"
os_field() { sed -n "s/^$1=//p" "$OS_RELEASE" | tr -d '"' | head -n 1; }
OS_ID=$(os_field ID)
OS_CODENAME=$(os_field VERSION_CODENAME)
OS_NAME=$(os_field PRETTY_NAME)
case "$OS_ID:$OS_CODENAME" in
    debian:bookworm|raspbian:bookworm) ;;
    *) refuse "unsupported system '$OS_NAME'; raild's installer supports Raspberry Pi OS Bookworm (Debian 12) only" ;;
esac

if [ -n "${RAILD_MODEL:-}" ]; then
    MODEL=$RAILD_MODEL
elif [ -r "$ROOT/proc/device-tree/model" ]; then
    MODEL=$(tr -d '\000' < "$ROOT/proc/device-tree/model")
else
    MODEL=unknown
fi
CPUINFO=${RAILD_CPUINFO:-$ROOT/proc/cpuinfo}
REVISION=$(sed -n 's/^Revision[[:space:]]*:[[:space:]]*//p' "$CPUINFO" 2>/dev/null | head -n 1)

# New-style revision codes (bit 23 set) carry the SoC in bits 12-15; 4 is the
# BCM2712 of the Pi 5 family, whose RP1 GPIO pigpio cannot drive.
soc_of_revision() {
    rev=$((0x${1:-0}))
    if [ $(((rev >> 23) & 1)) = 1 ]; then echo $(((rev >> 12) & 15)); else echo 0; fi
}
PI5_REASON="pigpio, which times the step pulses, does not support the Pi 5 family (its GPIO sits behind the RP1 chip); use a Pi Zero 2 W, 3 or 4, or let a grbl board time the steps: sudo $0 --drive grbl (docs/hardware.md, \"grbl board\")"
PI5=0
case "$MODEL" in
    *"Raspberry Pi 5"*|*"Compute Module 5"*) PI5=1 ;;  # also the Pi 500
esac
if [ -n "$REVISION" ] && [ "$(soc_of_revision "$REVISION")" = 4 ]; then
    PI5=1
    MODEL="$MODEL (board revision $REVISION: a BCM2712, Pi 5 family)"
fi
if [ "$PI5" = 1 ] && [ "$DRIVE" = pigpio ]; then
    refuse "$MODEL: $PI5_REASON"
fi
case "$MODEL" in
    # "Raspberry Pi 4" also matches the Pi 400.
    *"Raspberry Pi Zero 2"*|*"Raspberry Pi 3"*|*"Raspberry Pi 4"*|*"Compute Module 3"*|*"Compute Module 4"*) ;;
    *"Raspberry Pi 5"*|*"Compute Module 5"*|*"Pi 5 family"*) ;;  # grbl drive only (refused above otherwise)
    "Raspberry Pi"*)
        refuse "$MODEL is not supported (too slow for raild's Python stack); use a Pi Zero 2 W, 3 or 4" ;;
    *)
        refuse "this is not a Raspberry Pi (model: $MODEL); raild drives the rail through pigpiod on a Pi Zero 2 W to Pi 4" ;;
esac

ARCH=${RAILD_ARCH:-$(dpkg --print-architecture 2>/dev/null || echo unknown)}
case "$ARCH" in
    arm64|armhf) ;;
    *) refuse "architecture $ARCH is not supported; install the 64-bit (arm64) or 32-bit (armhf) Raspberry Pi OS" ;;
esac
say "system: $OS_NAME, $MODEL${REVISION:+ (revision $REVISION)}, $ARCH, $DRIVE drive"

# --- apt packages ------------------------------------------------------------
# libgphoto2-6 is installed on both architectures for its udev rules, which mark
# the cameras it knows (ID_GPHOTO2) for our own rule; the arm64 wheel bundles its
# own library.
PACKAGES="python3-venv libgphoto2-6"
if [ "$ARCH" = armhf ]; then
    # PyPI's gphoto2 has no 32-bit Arm wheel: build it against the system libgphoto2.
    PACKAGES="$PACKAGES libgphoto2-dev pkg-config build-essential python3-dev"
fi

PIGPIOD_BIN=/usr/bin/pigpiod
if [ "$DRIVE" = grbl ]; then
    say "grbl drive: no pigpiod needed"
else
PIGPIOD_BIN=
for candidate in /usr/bin/pigpiod /usr/local/bin/pigpiod; do
    if [ -x "$ROOT$candidate" ]; then PIGPIOD_BIN=$candidate; break; fi
done
if [ -n "$PIGPIOD_BIN" ]; then
    say "pigpiod found at $PIGPIOD_BIN"
else
    apt_has_pigpiod=${RAILD_PIGPIOD_PKG:-}
    if [ -z "$apt_has_pigpiod" ]; then
        if apt-cache policy pigpiod 2>/dev/null | grep -q 'Candidate: [0-9]'; then
            apt_has_pigpiod=yes
        else
            apt_has_pigpiod=no
        fi
    fi
    if [ "$apt_has_pigpiod" = yes ]; then
        PACKAGES="$PACKAGES pigpiod"
        PIGPIOD_BIN=/usr/bin/pigpiod
    else
        refuse "no pigpiod here and apt offers no pigpiod package (Debian ships only the pigpio clients).
  Either use Raspberry Pi OS, whose archive has it (sudo apt-get install pigpiod),
  or build pigpio's release from source, then run this script again:
    wget https://github.com/joan2937/pigpio/archive/refs/tags/v79.tar.gz
    tar xzf v79.tar.gz && cd pigpio-79 && make && sudo make install
  (that installs /usr/local/bin/pigpiod; this script then installs a pigpiod.service for it)"
    fi
fi
fi
run apt-get update
# shellcheck disable=SC2086 # word splitting of the package list is intended
run env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $PACKAGES

# --- the raild user -----------------------------------------------------------
# On the real system ask NSS (users may come from elsewhere than /etc/passwd);
# under RAILD_ROOT read the files there.
user_exists() {
    if [ -z "$ROOT" ]; then getent passwd raild >/dev/null; else grep -q '^raild:' "$ROOT/etc/passwd" 2>/dev/null; fi
}
in_plugdev() {
    if [ -z "$ROOT" ]; then id -nG raild 2>/dev/null | tr ' ' '\n' | grep -qx plugdev; return; fi
    grep -q '^plugdev:[^:]*:[^:]*:\(.*,\)\{0,1\}raild\(,.*\)\{0,1\}$' "$ROOT/etc/group" 2>/dev/null
}
in_dialout() {
    if [ -z "$ROOT" ]; then id -nG raild 2>/dev/null | tr ' ' '\n' | grep -qx dialout; return; fi
    grep -q '^dialout:[^:]*:[^:]*:\(.*,\)\{0,1\}raild\(,.*\)\{0,1\}$' "$ROOT/etc/group" 2>/dev/null
}
# The grbl board's serial device (/dev/ttyACM0, /dev/ttyUSB0) belongs to dialout.
GROUPS_WANTED=plugdev
[ "$DRIVE" = grbl ] && GROUPS_WANTED=plugdev,dialout
if user_exists; then
    say "user raild exists"
    if in_plugdev; then say "user raild is in plugdev"; else run usermod -a -G plugdev raild; fi
    if [ "$DRIVE" = grbl ]; then
        if in_dialout; then say "user raild is in dialout"; else run usermod -a -G dialout raild; fi
    fi
else
    run useradd --system --user-group --groups "$GROUPS_WANTED" --home-dir /var/lib/raild \
        --no-create-home --shell /usr/sbin/nologin raild
fi

# --- the venv and raild ---------------------------------------------------------
if [ -x "$ROOT$VENV/bin/python" ]; then
    say "venv $VENV exists; upgrading raild in it"
else
    run mkdir -p "$ROOT/opt/raild"
    run python3 -m venv "$ROOT$VENV"
fi
run "$ROOT$VENV/bin/python" -m pip install --quiet --upgrade pip
if [ "$ARCH" = armhf ]; then
    if [ "$DRY_RUN" != 1 ] && "$VENV/bin/python" -c 'import gphoto2' 2>/dev/null; then
        say "gphoto2 already built in the venv"
    else
        say "32-bit system: building the gphoto2 bindings against the system libgphoto2 (this takes a while)"
        run "$ROOT$VENV/bin/python" -m pip install --no-binary gphoto2 'gphoto2>=2.5'
    fi
fi
# A regular (non-editable) install, so the checkout can be deleted afterwards.
run "$ROOT$VENV/bin/python" -m pip install --upgrade "$SRC"

# --- configuration -----------------------------------------------------------
CONFIG=/etc/raild/raild.toml
if [ -e "$ROOT$CONFIG" ]; then
    say "kept your $CONFIG (compare with $SRC/config/raild.toml for new keys)"
else
    run install -d -m 0755 "$ROOT/etc/raild"
    run install -m 0644 "$SRC/config/raild.toml" "$ROOT$CONFIG"
    # The example simulates the camera; on the Pi the USB camera is the default.
    run sed -i 's/^backend = "sim"/backend = "gphoto2"/' "$ROOT$CONFIG"
    say "wrote $CONFIG with camera.backend = \"gphoto2\" (set \"gpio\" for a wired shutter only)"
    if [ "$DRIVE" = grbl ]; then
        run sed -i 's/^backend = "pigpio"/backend = "grbl"/' "$ROOT$CONFIG"
        say "wrote $CONFIG with drive.backend = \"grbl\"; set [grbl] port, then: raild check --fix-grbl"
    fi
fi

# --- systemd units ---------------------------------------------------------------
UNITS_CHANGED=0
# install_unit SRC DEST: copy when different; pigpiod's path is rewritten when it
# is not the packaged /usr/bin/pigpiod (a source build lives in /usr/local/bin).
# With the grbl drive raild's unit loses its pigpiod ties (ordering, BindsTo, the
# pigpio safe-stop) and gains dialout for the serial device.
grbl_unit_edit() {  # grbl_unit_edit [-i] FILE
    sed "$@" -e '/^After=pigpiod\.service$/d' -e '/^BindsTo=pigpiod\.service$/d' -e '/^ExecStopPost=.*safe-stop/d' \
        -e 's/^SupplementaryGroups=plugdev$/SupplementaryGroups=plugdev dialout/'
}
install_unit() {
    if [ "$DRIVE" = grbl ]; then
        wanted=$(grbl_unit_edit "$1")
    else
        wanted=$(sed "s#/usr/bin/pigpiod#$PIGPIOD_BIN#g" "$1")
    fi
    if [ -f "$ROOT$2" ] && [ "$(cat "$ROOT$2")" = "$wanted" ]; then
        say "$2 unchanged"
        return 0
    fi
    run install -D -m 0644 "$1" "$ROOT$2"
    if [ "$DRIVE" = grbl ]; then
        run grbl_unit_edit -i "$ROOT$2"
    elif [ "$PIGPIOD_BIN" != /usr/bin/pigpiod ]; then
        run sed -i "s#/usr/bin/pigpiod#$PIGPIOD_BIN#g" "$ROOT$2"
    fi
    UNITS_CHANGED=1
}
install_unit "$SRC/systemd/raild.service" "$ETC_UNITS/raild.service"
if [ "$DRIVE" = pigpio ]; then
install_unit "$SRC/systemd/pigpiod.service.d/raild.conf" "$ETC_UNITS/pigpiod.service.d/raild.conf"
packaged_unit=
for dir in /lib/systemd/system /usr/lib/systemd/system; do
    [ -f "$ROOT$dir/pigpiod.service" ] && packaged_unit=$dir/pigpiod.service
done
case "$PACKAGES" in *pigpiod*) packaged_unit="(from the pigpiod package)" ;; esac
if [ -n "$packaged_unit" ]; then
    say "using the packaged pigpiod unit $packaged_unit with raild's drop-in"
else
    install_unit "$SRC/systemd/pigpiod.service" "$ETC_UNITS/pigpiod.service"
fi
fi

# Camera access for the seat-less raild user (see the rule's comments).
UDEV_RULE=/etc/udev/rules.d/70-raild-camera.rules
if [ -f "$ROOT$UDEV_RULE" ] && cmp -s "$SRC/systemd/udev/70-raild-camera.rules" "$ROOT$UDEV_RULE"; then
    say "$UDEV_RULE unchanged"
else
    run install -D -m 0644 "$SRC/systemd/udev/70-raild-camera.rules" "$ROOT$UDEV_RULE"
    run udevadm control --reload
    run udevadm trigger --subsystem-match=usb --action=add
fi

run systemctl daemon-reload
if [ "$DRIVE" = grbl ]; then
    run systemctl enable raild.service
else
    run systemctl enable pigpiod.service raild.service
fi
if [ "$DRIVE" = pigpio ] && [ "$UNITS_CHANGED" = 1 ]; then
    # Applies -l; raild stops with it (BindsTo) and is started again below.
    run systemctl restart pigpiod.service
fi
run systemctl restart raild.service

# --- gvfs on desktop images ------------------------------------------------------
# gvfs's gphoto2 volume monitor grabs a camera as soon as it is plugged in, and
# libgphoto2 then fails with -53 "Could not claim the USB device". Masking its
# user unit for all users stops it for good (package upgrades keep the mask).
GVFS_UNIT=gvfs-gphoto2-volume-monitor.service
if [ -e "$ROOT/usr/libexec/gvfs-gphoto2-volume-monitor" ]; then
    if [ -L "$ROOT/etc/systemd/user/$GVFS_UNIT" ]; then
        say "gvfs's gphoto2 monitor is already masked"
    else
        if [ "$GVFS_FIX" = ask ] && [ "$DRY_RUN" != 1 ] && [ -t 0 ]; then
            printf '%s: desktop image: stop gvfs from claiming the camera (mask %s)? [y/N] ' "$PROG" "$GVFS_UNIT"
            read -r answer || answer=n
            case "$answer" in y|Y|yes) GVFS_FIX=yes ;; *) GVFS_FIX=no ;; esac
        fi
        if [ "$GVFS_FIX" = yes ] || { [ "$GVFS_FIX" = ask ] && [ "$DRY_RUN" = 1 ]; }; then
            [ "$GVFS_FIX" = ask ] && say "desktop image: would ask whether to apply the gvfs fix; if yes:"
            run systemctl --global mask "$GVFS_UNIT"
            say "the gvfs fix takes effect at the next login; until then run: gio mount -s gphoto2"
        else
            say "gvfs fix not applied; if the camera fails with -53, run: sudo systemctl --global mask $GVFS_UNIT"
        fi
    fi
fi

# --- done --------------------------------------------------------------------------
run runuser -u raild -- "$VENV/bin/raild" check --config "$CONFIG" --state-dir /var/lib/raild || true
say "done. Login URL: sudo -u raild $VENV/bin/raild token --config $CONFIG --state-dir /var/lib/raild"
