#!/usr/bin/env bash
# The first ten minutes, timed: a new TypeScript app goes from `npm init` to a job run by
# `errand work` on Redis, through `npm create errand` (create-errand's bin, installing this
# checkout's packages from `npm pack` tarballs), the generated test, a generator, tsc and
# `errand doctor`. Prints each command, its output and its time. Needs the packages built
# (`npx tsc -b`) and Redis (REDIS_URL, default redis://127.0.0.1:6379/5).
# Usage: bash scripts/first-ten-minutes.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
packs=$(mktemp -d)
(cd "$root" && npm pack ./packages/core ./packages/adapter-async ./packages/adapter-redis --pack-destination "$packs" --loglevel=error >/dev/null)
app=$(mktemp -d "${TMPDIR:-/tmp}/shop-XXXX")
cd "$app"
now() { date +%s.%N; }
step() {
  local t0; t0=$(now)
  echo "\$ $1"
  eval "$1" 2>&1 | sed 's/\x1b\[[0-9;]*m//g; s/^/  /'
  printf '  (%.1f s)\n' "$(echo "$(now) - $t0" | bc)"
}
T0=$(now)
step 'npm init -y >/dev/null && npm pkg set type=module && npm install --prefer-offline --no-audit --no-fund --loglevel=error -D typescript@5.9 vitest@4 @types/node@20 && echo "{\"compilerOptions\":{\"strict\":true,\"module\":\"nodenext\",\"target\":\"es2022\",\"noEmit\":true,\"skipLibCheck\":true}}" > tsconfig.json'
step "npm_config_prefer_offline=true node $root/packages/create-errand/dist/index.js --backend redis --from $packs"
step 'npm test 2>&1 | grep -E "Test Files|Tests "'
step 'npx errand generate job GuestsCleanup --queue low'
step 'npx tsc -p . && echo compiled'
export NODE_ENV=production REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/5}
step 'npx errand doctor'
t0=$(now)
echo '$ node_modules/.bin/errand work &'
node_modules/.bin/errand work >work.log 2>&1 &
worker=$!
until grep -q started work.log; do sleep 0.1; done
sed 's/^/  /' work.log
printf '  (%.1f s to "started")\n' "$(echo "$(now) - $t0" | bc)"
step 'id=$(npx errand enqueue HelloJob "[\"Ada\"]" | cut -d" " -f1); echo "enqueued $id"; until npx errand status "$id" | grep -q succeeded; do sleep 0.2; done; npx errand status "$id" | grep -E "state|result|progress"'
kill -TERM "$worker"
wait "$worker" || true
tail -2 work.log | sed 's/^/  /'
printf 'total: %.1f s (app in %s)\n' "$(echo "$(now) - $T0" | bc)" "$app"
rm -rf "$packs"
