#!/bin/bash
# Benchmarks (make bench), each against a baseline in the same run, written
# to bench/RESULTS.md with the machine and the date:
# - convert throughput: deb2fs convert against the CLI pipeline
#   `xz -dc | zstd -3` (zstd layers) and `xz -dc | gzip -1` (gzip layers)
#   over the same data members, with the same parallelism;
# - compose: `deb2fs compose nginx openssh-server` against mmdebstrap
#   building the same request (compose/bench_test.go, TestBenchVsMmdebstrap).
#
# The .debs (a fixed set of ~230 MB, including libllvm14 and golang-1.19-go)
# come from the host's apt sources and are cached in $DEB2FS_TEST_CACHE/bench.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
ROUNDS=${ROUNDS:-3}
JOBS=${JOBS:-$(nproc)}
CACHE=${DEB2FS_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/deb2fs-test}/bench
PKGS="golang-1.19-go openjdk-17-jre-headless libllvm14 libllvm15 gcc-12 cpp-12 g++-12
libicu72 vim-runtime git libperl5.36 perl-modules-5.36 coreutils libc6 python3.11-minimal
libpython3.11-stdlib"
OUT=bench/RESULTS.md
# best_of CMD...: "WALL CPU" of the run with the best wall time of $ROUNDS
# runs, in seconds; CPU is user + system time of every process of the run.
TIMING=$(mktemp)
trap 'rm -f "$TIMING"' EXIT
best_of() {
	local best="" cpu=""
	for _ in $(seq "$ROUNDS"); do
		/usr/bin/time -f '%e %U %S' -o "$TIMING" "$@" >/dev/null
		read -r w u s < "$TIMING"
		if [ -z "$best" ] || [ "$(echo "$w < $best" | bc -l)" = 1 ]; then
			best=$w
			cpu=$(echo "$u + $s" | bc -l)
		fi
	done
	printf '%.2f %.2f' "$best" "$cpu"
}
pipeline() { # $1 = compressor command
	printf '%s\n' "${MEMBERS[@]}" | xargs -P "$JOBS" -I{} sh -c "xz -dc -T1 '{}' | $1 > /dev/null"
}
ours() { # $1 = compression, $2 = xz decoder
	local s; s=$(mktemp -d)
	./bin/deb2fs convert -j "$JOBS" --store "$s" --compression "$1" --xz "$2" "${DEBS[@]}" >/dev/null 2>&1
	rm -rf "$s"
}

# /usr/bin/time times programs, not shell functions: it re-enters this
# script with --run.
if [ "${1:-}" = "--run" ]; then
	shift
	DEBS=("$CACHE"/debs/*.deb)
	MEMBERS=("$CACHE"/members/*.data.tar.xz)
	"$@"
	exit
fi

mkdir -p "$CACHE/debs" "$CACHE/members" bench
go build -o bin/deb2fs ./cmd/deb2fs

# Fetch the set (apt's candidate versions) once.
(cd "$CACHE/debs" && for p in $PKGS; do
	ls "${p}"_*.deb >/dev/null 2>&1 || apt-get download -qq "$p" 2>/dev/null
done)
DEBS=("$CACHE"/debs/*.deb)
deb_bytes=$(cat "${DEBS[@]}" | wc -c)
# The baseline's input: the data members, extracted once, outside the timing.
for d in "${DEBS[@]}"; do
	m="$CACHE/members/$(basename "$d").data.tar.xz"
	[ -s "$m" ] || ar p "$d" data.tar.xz > "$m"
done
MEMBERS=("$CACHE"/members/*.data.tar.xz)
data_bytes=$(for m in "${MEMBERS[@]}"; do xz -dc "$m"; done | wc -c)

self="$(pwd)/scripts/bench.sh"
read -r base_zstd base_zstd_cpu <<< "$(best_of "$self" --run pipeline "zstd -3 -T1 -q -c")"
read -r ours_zstd ours_zstd_cpu <<< "$(best_of "$self" --run ours zstd exec)"
read -r base_gzip base_gzip_cpu <<< "$(best_of "$self" --run pipeline "gzip -1 -c")"
read -r ours_gzip ours_gzip_cpu <<< "$(best_of "$self" --run ours gzip exec)"
read -r ours_zstd_go ours_zstd_go_cpu <<< "$(best_of "$self" --run ours zstd go)"

ratio() { printf '%.2f' "$(echo "$1 / $2" | bc -l)"; }
mbs() { printf '%.0f' "$(echo "$data_bytes / 1000000 / $1" | bc -l)"; }
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
{
	echo "# Benchmarks"
	echo
	echo "## Convert throughput ($(date -u +%Y-%m-%d), \`make bench\`)"
	echo
	echo "Machine: $cpu, $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB RAM; $(. /etc/os-release; echo "$PRETTY_NAME"); $(go version | cut -d' ' -f3); $(xz --version | head -1); $(zstd --version | head -1 | cut -d, -f1)."
	echo
	echo "Input: ${#DEBS[@]} real .debs, $((deb_bytes / 1000000)) MB of .debs, $((data_bytes / 1000000)) MB of data.tar (all data.tar.xz):"
	echo "$(for d in "${DEBS[@]}"; do basename "$d"; done | tr '\n' ' ')"
	echo
	echo "Parallelism $JOBS (\`-j $JOBS\`; the baseline runs $JOBS pipelines at once with \`xargs -P $JOBS\`). Best wall time of $ROUNDS runs each, cold store each run."
	echo "Ratio = baseline time / deb2fs time (throughput ratio; target ≥ 0.9). The CPU columns (user + system of all processes) are steadier than wall time on a shared VM."
	echo
	echo "| layers | baseline (CLI pipeline over the data members) | baseline wall / CPU | deb2fs wall / CPU | deb2fs MB/s | wall ratio | CPU ratio |"
	echo "| --- | --- | --- | --- | --- | --- | --- |"
	row() { # label baseline-cmd bw bc ow oc
		echo "| $1 | $2 | $3 s / $4 s | $5 s / $6 s | $(mbs "$5") | **$(ratio "$3" "$5")** | $(ratio "$4" "$6") |"
	}
	row "gzip (deb2fs default, level 6)" "\`xz -dc -T1 \| gzip -1\`" "$base_gzip" "$base_gzip_cpu" "$ours_gzip" "$ours_gzip_cpu"
	row "zstd (\`--compression zstd\`, level 3)" "\`xz -dc -T1 \| zstd -3 -T1\`" "$base_zstd" "$base_zstd_cpu" "$ours_zstd" "$ours_zstd_cpu"
	row "zstd, pure-Go xz (\`--xz go\`)" "\`xz -dc -T1 \| zstd -3 -T1\`" "$base_zstd" "$base_zstd_cpu" "$ours_zstd_go" "$ours_zstd_go_cpu"
	echo
	echo "Load average when the run ended: $(cut -d' ' -f1-3 /proc/loadavg)."
	echo
	echo "deb2fs does more than the pipeline: it reads the whole .deb (ar, control.tar), rewrites every tar header, writes the dpkg database entries, hashes the tar and the blob (SHA256 twice) and writes the blob to disk with fsync; the pipeline discards its output."
} > "$OUT.new"
if [ -f "$OUT" ]; then
	# Keep sections written by other benchmarks.
	awk '/^## /{keep = ($0 !~ /^## Convert throughput/)} keep' "$OUT" >> "$OUT.new"
fi
mv "$OUT.new" "$OUT"

# Compose against mmdebstrap: the Go test writes its own section.
echo "bench: compose vs mmdebstrap" >&2
DEB2FS_BENCH=1 DEB2FS_BENCH_OUT="$(pwd)/$OUT" go test ./compose -run 'TestBenchVsMmdebstrap$' -count=1 -timeout 30m >/dev/null
cat "$OUT"
