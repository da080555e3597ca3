#!/usr/bin/env bash
# An outside tool against the example exchange: patator's http_fuzz replays a combo list through
# rotating residential-proxy addresses (every attempt from another /24), none of which the
# shield's leak list knows (LEAKED_ADDRESSES unset: 0 % coverage). 5 of the 40 accounts reuse a
# password that is on the list (3 common, 2 unique). Prints the answers and the takeovers.
#   bash bench/outside/patator-stuffing.sh [PROTECTION]     (needs Debian's patator)
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v patator >/dev/null || { echo "patator is not installed (apt-get install patator)"; exit 2; }
protection=${1:-shield}
work=$(mktemp -d)
# The server runs in its own process group (npx → tsx → node), so one kill ends all of it.
trap 'kill -- -"$server" 2>/dev/null; rm -rf "$work"' EXIT
node --input-type=module -e '
import { writeFileSync } from "node:fs";
import { generateSecret } from "otplib";
const common = ["Summer2024!", "Password123!", "qwerty123"];
const users = [];
for (let i = 0; i < 40; i++) {
  const password = i < 5 ? (i % 2 ? `Unique-reused-${i}-xk` : common[i % 3]) : `own-${i}-strong-Passphrase-zz`;
  users.push({ email: `user${i}@mail.example`, password, totpSecret: generateSecret() });
}
const combos = [];
for (const u of users) {
  for (const p of common) combos.push([u.email, p]);
  if (users.indexOf(u) < 5) combos.push([u.email, u.password]);
}
for (let i = 0; i < 100; i++) combos.push([`ghost${i}@mail.example`, common[i % 3]]);
const lines = combos.map(([e, p], i) => `${e}:${p}:${10 + (i >> 8)}.${i & 255}.${(i * 7) & 255}.9`);
writeFileSync(process.argv[1] + "/users.json", JSON.stringify(users));
writeFileSync(process.argv[1] + "/combos.txt", lines.join("\n") + "\n");
writeFileSync(process.argv[1] + "/valid.txt", users.slice(0, 5).map((u) => `${u.email}:${u.password}`).join("\n") + "\n");
' "$work"
port=$((20000 + RANDOM % 20000))
PORT=$port PROTECTION=$protection EXAMPLE_USERS="$work/users.json" TRUST_PROXY=loopback \
  SHIELD_SECRET=outside-tool-secret-0123456789abcdefghijkl setsid npx tsx bench/exchange/launcher.ts >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.5; done
patator http_fuzz url="http://127.0.0.1:$port/auth/login" method=POST auto_urlencode=0 \
  header="$(printf 'Content-Type: application/json\nX-Forwarded-For: COMBO02')" \
  body='{"email":"COMBO00","password":"COMBO01"}' 0="$work/combos.txt" resolve=127.0.0.1:127.0.0.1 \
  -t 4 -l "$work/log" >"$work/patator.out" 2>&1 || true
echo "protection: $protection, attempts: $(wc -l <"$work/combos.txt"), valid pairs: 5"
echo "answers by status:"; ls "$work/log" | grep -E '^[0-9]+_' | sed 's/^[0-9]*_\([0-9]*\)-.*/\1/' | sort | uniq -c
echo "tokens (takeovers without the second factor): $(grep -l '"token"' "$work"/log/[0-9]*.txt | wc -l)"
while IFS=: read -r email password; do
  file=$(grep -l "\"email\":\"$email\",\"password\":\"$password\"" "$work"/log/[0-9]*.txt | head -1)
  echo "  valid pair $email → $(grep -o '"error":"[a-z_]*"\|"token"' "$file" | head -1)"
done <"$work/valid.txt"
