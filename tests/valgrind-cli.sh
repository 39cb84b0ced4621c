#!/bin/sh
# valgrind memcheck over the CLI paths: classify, mail, eval, info (model
# read from text and from network.bin), normalize, a small training run,
# compare, install-model and its rollback.
# Writes "passed failed 0" to BUILD/valgrind-summary.
# Usage: tests/valgrind-cli.sh BUILD_DIR
set -u
build=${1:-build}
cli=$build/newstag
tmp=$(mktemp -d /tmp/newstag-valgrind-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
head -40 tests/data/small.jsonl > "$tmp/items.jsonl"
cp -r model/default "$tmp/model" && rm -f "$tmp/model/network.bin"
passed=0 failed=0
run() {
    name=$1; shift
    if valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
        -q "$@" > "$tmp/out" 2> "$tmp/err" < "$tmp/stdin"; then
        passed=$((passed + 1)); echo "[       OK ] valgrind $name"
    else
        failed=$((failed + 1)); echo "[  FAILED  ] valgrind $name"; cat "$tmp/err"
    fi
}
cp "$tmp/items.jsonl" "$tmp/stdin"
run "info, model read from text" "$cli" info -m "$tmp/model"
run "info, model mapped" "$cli" info -m "$tmp/model"
run classify "$cli" classify -m "$tmp/model"
run eval "$cli" eval -m "$tmp/model" "$tmp/items.jsonl"
run "eval --report" "$cli" eval -m "$tmp/model" --report "$tmp/report.html" "$tmp/items.jsonl"
run "eval --tune-thresholds" "$cli" eval -m "$tmp/model" --tune-thresholds "$tmp/tuned" \
    --min-precision 0.9 "$tmp/items.jsonl"
run normalize "$cli" normalize
run train "$cli" train -o "$tmp/trained" --epochs 2 --hidden 3 --features 200 "$tmp/items.jsonl"
# training from mail folders: an mbox (one message in two folders) and a Maildir
printf 'From a\nSubject: Thu ng\303\242n s\303\241ch\nMessage-ID: <1@x>\n\nChi ng\303\242n s\303\241ch.\n\nFrom b\nSubject: \n\n\n' > "$tmp/mail.mbox"
mkdir -p "$tmp/maildir/cur" "$tmp/maildir/new" "$tmp/maildir/tmp"
printf 'Subject: B\303\263ng \304\221\303\241\n\n\304\220\341\273\231i tuy\341\273\203n th\341\272\257ng.\n' > "$tmp/maildir/new/1.M1P1.x"
head -3 "$tmp/mail.mbox" | tail -2 > "$tmp/maildir/cur/2.M2P1.x:2,S"
run "train --from-mail" "$cli" train -o "$tmp/trained-mail" --epochs 2 --hidden 3 --features 200 \
    --from-mail budget="$tmp/mail.mbox" --from-mail none="$tmp/maildir" "$tmp/items.jsonl"
run compare "$cli" compare -m "$tmp/trained" -m "$tmp/model" "$tmp/items.jsonl"
run install-model "$cli" install-model "$tmp/trained" "$tmp/installed"
run "install-model over a model" "$cli" install-model "$tmp/model" "$tmp/installed"
run "install-model --rollback" "$cli" install-model --rollback "$tmp/installed"
printf 'Subject: =?UTF-8?B?VGh1IG5nw6JuIHPDoWNo?=\nContent-Type: text/plain; charset=utf-8\n\nbody\n' > "$tmp/stdin"
run mail "$cli" mail -m "$tmp/model"
echo "$passed $failed 0" > "$build/valgrind-summary"
echo "valgrind: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
