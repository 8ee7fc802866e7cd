#!/usr/bin/env bash
# Build one chapter as a small stand-alone book (with the intro, the API pages and
# the bibliography), with warnings as errors, in its own build folder.
# Several of these can run side by side without touching the main _build.
#   usage: scripts/build_chapter.sh chapters/01_rmsprop_ode.md [OUTDIR]
set -euo pipefail
chapter=${1:?usage: scripts/build_chapter.sh chapters/NN_name.md [OUTDIR]}
root=$(cd "$(dirname "$0")/.." && pwd)
name=$(basename "$chapter" .md)
out=${2:-/tmp/lrtheory-chapter-$name}
rm -rf "$out"
mkdir -p "$out/chapters"
cp "$root/_config.yml" "$root/intro.md" "$root/references.bib" "$root/bibliography.md" "$root/reading_guide.md" \
  "$root/running_locally.md" "$root/reproduce.md" "$out/"
cp -r "$root/_ext" "$root/api" "$out/"
[ -f "$root/reproduce_timings.json" ] && cp "$root/reproduce_timings.json" "$out/"
for d in _static docs; do [ -d "$root/$d" ] && cp -r "$root/$d" "$out/"; done
cp "$root/$chapter" "$out/chapters/"
[ -d "$root/chapters/figures" ] && cp -r "$root/chapters/figures" "$out/chapters/"
{
  echo "format: jb-book"
  echo "root: intro"
  echo "parts:"
  echo "  - caption: Chapters"
  echo "    numbered: true"
  echo "    chapters:"
  echo "      - file: chapters/$name"
  echo "  - caption: Using the book"
  echo "    chapters:"
  echo "      - file: reading_guide"
  echo "      - file: running_locally"
  echo "      - file: reproduce"
  echo "  - caption: Reference"
  echo "    chapters:"
  echo "      - file: api/index"
  echo "        sections:"
  for f in "$root"/api/*.md; do
    b=$(basename "$f" .md); [ "$b" = index ] && continue
    echo "          - file: api/$b"
  done
  echo "      - file: bibliography"
} > "$out/_toc.yml"
cd "$out"
jupyter-book build . -W --keep-going
echo "built: $out/_build/html/chapters/$name.html"
