#!/usr/bin/env bash
# The main job on the sample data, in a scratch copy of the workspace (build/demo), so that
# the repository's own files stay as they are: ingest, draft, render, check, export, publish,
# and build the web archive.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
DEMO=build/demo

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

rm -rf "$DEMO"
mkdir -p "$DEMO"
cp newsletter.toml "$DEMO/"
cp -r examples "$DEMO/"
cd "$DEMO"

step newsletter db upgrade
step newsletter ingest --all
step newsletter ingest --all            # again: nothing new, nothing duplicated
step newsletter sources                 # how each source fared
step newsletter dupes                   # stories two sources may both tell
step newsletter topics
step newsletter items --month 2020-11 --topic cooperatives
step newsletter items --month 2020-10 --topic cooperatives
step newsletter draft ilo-coop-enews --month 2020-10
step newsletter draft ilo-coop-enews --month 2020-11
step newsletter draft refresh ilo-coop-enews/2020-11
step newsletter validate ilo-coop-enews/2020-11
step newsletter render ilo-coop-enews/2020-10
step newsletter render ilo-coop-enews/2020-11
step newsletter check ilo-coop-enews/2020-11
step newsletter export ilo-coop-enews/2020-11 --format eml
step newsletter export ilo-coop-enews/2020-11 --format bundle
step newsletter subscribers import examples/ilo/subscribers.csv   # one row is broken: named, skipped
step newsletter subscribers list
step newsletter send ilo-coop-enews/2020-11 --dry-run              # to the list's active subscribers
step newsletter publish ilo-coop-enews/2020-10
step newsletter publish ilo-coop-enews/2020-11
step newsletter issues
step newsletter archive -o site

# One newsletter in English, French and Spanish (examples/editions): the stories both listings
# tell are linked, then one draft writes every edition, each in its language where it can.
cd examples/editions
step newsletter ingest --all
step newsletter link 73f6d1040a 8421b17424
step newsletter link 0b26f7f450 9bcbb36a90
step newsletter link 0b3c3d726b 9ab6057380
step newsletter draft ilo-coop-enews --month 2020-11
step newsletter render ilo-coop-enews/2020-11.fr
step newsletter subscribers import subscribers.csv
step newsletter send ilo-coop-enews/2020-11 --dry-run   # each subscriber their language's edition
step newsletter publish ilo-coop-enews/2020-11
step newsletter publish ilo-coop-enews/2020-11.fr       # an edition: its issue's number
step newsletter publish ilo-coop-enews/2020-11.es
step newsletter archive -o site                         # a page, a list and a search per language
cd ../..

cat <<MSG

Everything above is in $DEMO/. To look at it:
  open $DEMO/build/ilo-coop-enews/2020-11/email.html in a browser (the email), or
  $DEMO/examples/editions/build/ilo-coop-enews/2020-11.fr/email.html (its French edition), or
  cd $DEMO && ../../.venv/bin/newsletter preview ilo-coop-enews/2020-11
  cd $DEMO && ../../.venv/bin/newsletter archive serve site    (http://127.0.0.1:8000/)
  cd $DEMO/examples/editions && ../../../../.venv/bin/newsletter archive serve site   (the editions' archive)
  cd $DEMO && ../../.venv/bin/newsletter studio                (http://127.0.0.1:8030/, the editors' studio)
  cd $DEMO && NEWSLETTER_SIGNING_KEY=... ../../.venv/bin/newsletter serve   (the public subscribe pages; set [subscriptions] url)
MSG
