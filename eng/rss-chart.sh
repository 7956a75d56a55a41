#!/usr/bin/env bash
# Draws resident memory over time from the samples of eng/bench-services.sh (or eng/measure-resources.sh) as an SVG
# line chart: one line per process kind (the largest VmRSS among its processes at each sample), dashed vertical
# lines where the phase changes (1 services, 2 in-process, 3 after).
#
#   eng/rss-chart.sh SAMPLES.tsv OUT.svg [TITLE]
set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
samples="$1" out="$2" title="${3:-Resident memory per process kind}"
[ -s "$samples" ] || { echo "rss-chart: $samples is missing or empty" >&2; exit 1; }
awk -F'\t' 'NF >= 7 { found = 1; exit } END { exit !found }' "$samples" || { echo "rss-chart: $samples has no RSS column (samples from an older eng/common.sh)" >&2; exit 1; }
awk -F'\t' -v title="$title" '
  NF >= 7 {
    t = $7 + 0; k = $2; rss = $6 / 1024
    if (!started) { t0 = t; started = 1 }
    x = t - t0
    key = k SUBSEP x
    if (!(key in v) || rss > v[key]) v[key] = rss
    if (!(x in seen)) { seen[x] = 1; xs[++nx] = x }
    if (!(k in kinds)) { kinds[k] = 1; order[++nk] = k }
    if (rss > ymax) ymax = rss
    if (x > xmax) xmax = x
    if ($1 != lastphase) { if (lastphase != "") { px[++np] = x; pl[np] = $1 } lastphase = $1 }
  }
  END {
    W = 900; H = 420; L = 70; R = 160; T = 40; B = 50
    pw = W - L - R; ph = H - T - B
    ytop = 64; while (ytop < ymax * 1.05) ytop = (ytop * 4 / 3 == int(ytop * 4 / 3)) ? ytop * 4 / 3 : ytop * 3 / 2
    if (xmax <= 0) xmax = 1
    split("#1f77b4 #ff7f0e #2ca02c #d62728 #9467bd #8c564b #e377c2 #7f7f7f #bcbd22 #17becf", col, " ")
    printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"12\">\n", W, H
    printf "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
    printf "<text x=\"%d\" y=\"22\" font-size=\"15\">%s</text>\n", L, title
    for (i = 0; i <= 4; i++) {
      y = T + ph - ph * i / 4
      printf "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", L, y, L + pw, y
      printf "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.0f MB</text>\n", L - 6, y + 4, ytop * i / 4
    }
    for (i = 0; i <= 5; i++) {
      x = L + pw * i / 5
      printf "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.0f s</text>\n", x, T + ph + 18, xmax * i / 5
    }
    printf "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n", L, T + ph, L + pw, T + ph
    printf "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n", L, T, L, T + ph
    name["1"] = "services"; name["2"] = "in-process"; name["3"] = "after"
    for (i = 1; i <= np; i++) {
      x = L + pw * px[i] / xmax
      printf "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#888\" stroke-dasharray=\"4 3\"/>\n", x, T, x, T + ph
      printf "<text x=\"%.1f\" y=\"%d\" fill=\"#555\">%s</text>\n", x + 3, T + 12, (pl[i] in name) ? name[pl[i]] : "phase " pl[i]
    }
    printf "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">time since the first sample</text>\n", L + pw / 2, H - 8
    for (j = 1; j <= nk; j++) {
      k = order[j]; c = col[(j - 1) % 10 + 1]; pts = ""
      for (i = 1; i <= nx; i++) {
        key = k SUBSEP xs[i]
        if (key in v) pts = pts sprintf("%.1f,%.1f ", L + pw * xs[i] / xmax, T + ph - ph * v[key] / ytop)
      }
      printf "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"%s\"/>\n", c, pts
      printf "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"3\"/>\n", L + pw + 12, T + 10 + 18 * j, L + pw + 32, T + 10 + 18 * j, c
      printf "<text x=\"%d\" y=\"%d\">%s</text>\n", L + pw + 38, T + 14 + 18 * j, k
    }
    printf "</svg>\n"
  }' "$samples" > "$out"
echo "rss-chart: wrote $out"
