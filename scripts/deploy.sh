#!/usr/bin/env bash
# Deploy the arm64 edgemobilenet binary and the firmware-config files to a Raspberry Pi.
#
#   scripts/deploy.sh HOST [CONFIG.json [MODEL.emn]]
#
# HOST is anything ssh accepts (pi@raspberrypi.local). CONFIG defaults to
# firmware-config/person-detector-led.json and is installed as /etc/edgemobilenet/edge.json.
# MODEL is installed in /opt/edgemobilenet/models/ under the file name the config's "model" names;
# by default, for the default config, the upstream person detector converted with the x64 binary
# (scripts/fetch-models.sh finds or downloads it).
# Needs: artifacts/linux-arm64/edgemobilenet (scripts/build.sh), ssh access with sudo on the Pi.
# Not run in CI.
set -euo pipefail

if [[ $# -lt 1 || $# -gt 3 ]]; then
    echo "usage: $0 HOST [CONFIG.json [MODEL.emn]]" >&2
    exit 2
fi
host=$1
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
config=${2:-$root/firmware-config/person-detector-led.json}
model=${3:-}
binary=$root/artifacts/linux-arm64/edgemobilenet

# The file name the config expects in /opt/edgemobilenet/models/ (its "model" entry).
model_name=$(sed -n 's/^[[:space:]]*"model"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$config" | head -n 1)
model_name=$(basename "${model_name:-model.emn}")
if [[ -z $model ]]; then
    if [[ $config != "$root/firmware-config/person-detector-led.json" ]]; then
        echo "deploy: give the model file for $config as the third argument" >&2
        exit 2
    fi
    upstream=$(bash "$root/scripts/fetch-models.sh")
    model=$root/artifacts/deploy/$model_name
    mkdir -p "$(dirname "$model")"
    "$root/artifacts/linux-x64/edgemobilenet" convert "$upstream/person_detect.tflite" --input-spec gray -o "$model"
fi

for f in "$binary" "$config" "$model" "$root/firmware-config/edgemobilenet.service" "$root/firmware-config/99-edgemobilenet.rules"; do
    if [[ ! -f $f ]]; then
        echo "deploy: missing $f (run scripts/build.sh first?)" >&2
        exit 3
    fi
done

staging=/tmp/edgemobilenet-deploy
echo "deploy: copying to $host:$staging"
# shellcheck disable=SC2029 # staging is a fixed local path, expanded here on purpose
ssh "$host" "rm -rf '$staging' && mkdir -p '$staging'"
scp -q "$binary" "$config" "$model" \
    "$root/firmware-config/edgemobilenet.service" \
    "$root/firmware-config/edgemobilenet-libcamera.service" \
    "$root/firmware-config/99-edgemobilenet.rules" \
    "$host:$staging/"

config_name=$(basename "$config")
model_file=$(basename "$model")
echo "deploy: installing on $host"
# shellcheck disable=SC2087 # expand config_name and staging locally on purpose
ssh "$host" sudo bash -s <<REMOTE
set -euo pipefail
getent group gpio >/dev/null || groupadd --system gpio
id edgemobilenet >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin edgemobilenet
usermod -a -G video,gpio edgemobilenet
install -d -m 0755 /opt/edgemobilenet /opt/edgemobilenet/models /etc/edgemobilenet
install -d -m 0750 -o edgemobilenet -g edgemobilenet /var/log/edgemobilenet
install -m 0755 $staging/edgemobilenet /opt/edgemobilenet/edgemobilenet
install -m 0644 $staging/$config_name /etc/edgemobilenet/edge.json
install -m 0644 $staging/$model_file /opt/edgemobilenet/models/$model_name
install -m 0644 $staging/edgemobilenet.service $staging/edgemobilenet-libcamera.service /etc/systemd/system/
install -m 0644 $staging/99-edgemobilenet.rules /etc/udev/rules.d/
udevadm control --reload-rules
udevadm trigger --subsystem-match=video4linux --subsystem-match=gpio
/opt/edgemobilenet/edgemobilenet selftest --quick | tail -n 1
systemctl daemon-reload
systemctl enable edgemobilenet.service
systemctl restart edgemobilenet.service
sleep 2
systemctl --no-pager --lines=5 status edgemobilenet.service || true
rm -rf $staging
REMOTE
echo "deploy: done: $model_name in $host:/opt/edgemobilenet/models/, config in /etc/edgemobilenet/edge.json."
