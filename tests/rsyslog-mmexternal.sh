#!/bin/sh
# A real rsyslogd runs `newstag classify --format rsyslog` through
# mmexternal on three lines read by imfile, and writes each message with the
# labels newstag put into $!topics. Usage: tests/rsyslog-mmexternal.sh CLI MODEL
# Prints the output file; exits non-zero if rsyslogd did not deliver 3 lines.
set -eu
PATH="$PATH:/usr/sbin:/sbin"   # rsyslogd lives in sbin, which a CI PATH may lack
cli=$(realpath "$1")
model=$(realpath "$2")
dir=$(mktemp -d /tmp/newstag-rsyslog-XXXXXX)
# rsyslogd writes its imfile state into $dir as it shuts down: wait for it
# before removing $dir, or rm races it ("Directory not empty") and, under
# set -e, the failed rm in this trap becomes the script's exit status.
trap 'kill $(cat "$dir/pid" 2>/dev/null) 2>/dev/null || true; wait || true; rm -rf "$dir" || true' EXIT
: > "$dir/in.log"
cat > "$dir/rs.conf" <<CONF
global(workDirectory="$dir")
module(load="imfile")
module(load="mmexternal")
input(type="imfile" File="$dir/in.log" Tag="news" ruleset="tag")
template(name="t" type="string" string="%msg% => %\$!topics!labels%\\n")
ruleset(name="tag") {
  action(type="mmexternal" binary="$cli classify -m $model --format rsyslog"
         interface.input="fulljson")
  action(type="omfile" file="$dir/out.log" template="t")
}
CONF
rsyslogd -n -f "$dir/rs.conf" -i "$dir/pid" > "$dir/rsyslogd.log" 2>&1 &
sleep 1
printf '%s\n' "Thu ngân sách nhà nước vượt dự toán, giải ngân vốn đầu tư công" \
    "Cử tri đi bầu cử đại biểu Quốc hội và HĐND" "Đội tuyển bóng đá thắng đậm" >> "$dir/in.log"
i=0
while [ $i -lt 60 ]; do
    [ -f "$dir/out.log" ] && [ "$(wc -l < "$dir/out.log")" -ge 3 ] && break
    sleep 0.5
    i=$((i + 1))
done
cat "$dir/out.log" 2>/dev/null || cat "$dir/rsyslogd.log"
[ -f "$dir/out.log" ] && [ "$(wc -l < "$dir/out.log")" -ge 3 ]
