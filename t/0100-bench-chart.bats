#!/usr/bin/env bats
# make bench's picture (t/bench/chart.sh): an HTML table of every row, one
# per part, with the verdict against each stated target; the PNG when
# gnuplot is there.

setup() {
	cd "$BATS_TEST_DIRNAME/.."
	D=$BATS_TEST_TMPDIR
	cat >"$D/b.csv" <<-'CSV'
	group,metric,unit,better,ours,ref_name,ref_value,target
	cli,nc-send,ms,lower,6.00,curl PUT,5.00,1.3
	cli,nc-recv -,ms,lower,3.00,curl PUT,5.00,0.5
	ratchet,ratchet <alternating>,msg/s,higher,60000,libolm,30000
	relay,p99 latency,ms,lower,4,target,20,1
	CSV
}

@test "bench chart: one table per part, every row, targets judged" {
	run bash t/bench/chart.sh "$D/b.csv" "$D/out"
	[ "$status" -eq 0 ]
	h=$D/out/bench.html
	[ "$(grep -c '<table>' "$h")" -eq 3 ]
	grep -q "<h2>cli</h2>" "$h"
	grep -q '<h2>relay</h2>' "$h"
	# 6.00/5.00 = 1.2 meets <= 1.3; 3.00/5.00 = 0.6 misses <= 0.5
	grep -q 'nc-send vs curl PUT (lower is better)</td><td>6.00 ms</td><td>5.00 ms</td><td class="ok">1.200</td><td>&le; 1.3</td>' "$h"
	grep -q 'class="miss">0.600</td><td>&le; 0.5</td>' "$h"
	# no target: no verdict; a label with markup is escaped
	grep -q 'ratchet &lt;alternating&gt; vs libolm (higher is better).*class="none">2.000</td><td></td>' "$h"
	grep -q "$(uname -m), $(nproc) CPU" "$h"
}

@test "bench chart: a PNG with a panel per part when gnuplot is there" {
	command -v gnuplot >/dev/null || skip "gnuplot not installed (make bench-deps)"
	run bash t/bench/chart.sh "$D/b.csv" "$D/out"
	[ "$status" -eq 0 ]
	[ "$(head -c 4 "$D/out/bench.png" | tail -c 3)" = PNG ]
	[ "$(grep -c '^set title' "$D/out/bench.gp")" -eq 3 ]
}
