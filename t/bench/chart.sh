#!/usr/bin/env bash
# t/bench/chart.sh CSV OUTDIR - the picture of a `make bench` run.
#
# CSV columns: group,metric,unit,better,ours,ref_name,ref_value[,target]
# where target, when a part states one, is the ratio ours/ref that must hold
# (at most it when lower is better, at least it when higher is).
#
# Writes OUTDIR/bench.html (every row as a table, one per group, and the
# picture) always, and OUTDIR/bench.png when gnuplot is there: one panel
# per group, a horizontal bar per row showing ours/ref with its whole label,
# a dashed line at parity, the target as a red line across its bar, bars green where the
# target holds and red where it does not; the machine and date in the title.
set -eu
csv=$1 out=$2
mkdir -p "$out"
when=$(date -u '+%Y-%m-%d %H:%M UTC')
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)
machine="$(uname -m), $(nproc) CPU${cpu:+ ($cpu)}, $(uname -sr)"

# One line per row: group, label, ratio, target ("" if none), verdict
# (ok | miss | none), ours and ref with their unit. Fields are tab-separated.
rows=$(awk -F, 'NR > 1 && NF >= 7 {
	r = ($7 + 0 != 0) ? $5 / $7 : 0
	t = (NF >= 8) ? $8 : ""
	v = "none"
	if (t != "") v = (($4 == "lower" && r <= t + 0) || ($4 == "higher" && r >= t + 0)) ? "ok" : "miss"
	printf "%s\t%s vs %s (%s is better)\t%.3f\t%s\t%s\t%s %s\t%s %s\n",
	    $1, $2, $6, $4, r, t, v, $5, $3, $7, $3 }' "$csv")
groups=$(printf '%s\n' "$rows" | cut -f1 | awk 'NF && !seen[$0]++')

esc() { sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g'; }

{
	echo '<!doctype html><meta charset="utf-8"><title>Newchat benchmarks</title>'
	echo '<style>body{font:14px sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1.5em}'
	echo 'td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}td:first-child,th:first-child{text-align:left}'
	echo '.ok{color:#1a7f37}.miss{color:#c00;font-weight:bold}</style>'
	printf '<h1>Newchat benchmarks</h1>\n<p>%s &mdash; %s</p>\n' "$(esc <<<"$machine")" "$when"
	echo '<p>Each row is ours beside a floor or a peer measured in the same run; the ratio is ours / reference.</p>'
	for g in $groups; do
		printf '<h2>%s</h2>\n<table><tr><th>measure</th><th>ours</th><th>reference</th><th>ratio</th><th>target</th></tr>\n' "$g"
		printf '%s\n' "$rows" | awk -F'\t' -v g="$g" '$1 == g' | esc |
		    awk -F'\t' '{ t = ($4 == "") ? "" : (($2 ~ /lower is better/) ? "&le; " : "&ge; ") $4
			printf "<tr><td>%s</td><td>%s</td><td>%s</td><td class=\"%s\">%s</td><td>%s</td></tr>\n",
			    $2, $6, $7, $5, $3, t }'
		echo '</table>'
	done
	echo '<p><img src="bench.png" alt="the same figures as bars"></p>'
} >"$out/bench.html"
echo "html: $out/bench.html"

command -v gnuplot >/dev/null || { echo "chart: gnuplot missing (make bench-deps)" >&2; exit 0; }

# Panel heights follow their row counts, so every label has the same room.
n_total=$(printf '%s\n' "$rows" | grep -c .)
n_groups=$(printf '%s\n' "$groups" | grep -c .)
row_px=28 head_px=95 title_px=60
height=$((title_px + n_groups * head_px + n_total * row_px))
gp=$out/bench.gp
{
	echo "set terminal pngcairo noenhanced size 1400,$height font ',10'"
	echo "set output '$out/bench.png'"
	echo "set multiplot title \"Newchat benchmarks: ours / reference (each part beside its floor or peer)\\n$machine, $when\" font ',12'"
	echo "set style fill solid 0.8 border -1"
	echo "set grid xtics lt 0"
	echo "set key off"
	echo "set lmargin at screen 0.42"
	echo "set rmargin at screen 0.95"
	y=$((height - title_px))
	for g in $groups; do
		d=$out/bench-$g.dat
		printf '%s\n' "$rows" | awk -F'\t' -v g="$g" '$1 == g {
			c = ($5 == "ok") ? "0x2da44e" : ($5 == "miss") ? "0xcf222e" : "0x8c959f"
			printf "%d\t\"%s\"\t%s\t%s\t%s\n", n++, $2, $3, ($4 == "") ? "NaN" : $4, c }' >"$d"
		n=$(grep -c . "$d")
		h=$((head_px + n * row_px))
		y=$((y - h))
		max=$(awk -F'\t' '{ m = ($3 > m) ? $3 : m; if ($4 != "NaN" && $4 > m) m = $4 } END { print (m < 1 ? 1 : m) * 1.15 }' "$d")
		echo "set origin 0, $y.0/$height"
		echo "set size 1, $h.0/$height"
		echo "set title '$g' font ',11'"
		echo "set xrange [0:$max]"
		echo "set yrange [$n - 0.3:-0.7]"
		echo "set ytics nomirror"
		echo "set xlabel 'ours / reference' offset 0,0.5"
		echo "set arrow 1 from 1, graph 0 to 1, graph 1 nohead dt 2 lc rgb 'black'"
		echo "plot '$d' using (\$3/2):1:(\$3/2):(0.35):(\$5):ytic(2) with boxxyerror lc rgb variable, \\"
		echo "     '' using 3:1:(sprintf('%.2f×', \$3)) with labels left offset 0.6,0, \\"
		echo "     '' using 4:1:($max/400):(0.45) with boxxyerror fs solid 1.0 noborder lc rgb 'red'"
	done
	echo "unset multiplot"
} >"$gp"
gnuplot "$gp" 2>"$out/gnuplot.err" || { cat "$out/gnuplot.err" >&2; exit 1; }
echo "chart: $out/bench.png"
