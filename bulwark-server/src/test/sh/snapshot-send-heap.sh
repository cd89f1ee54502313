#!/usr/bin/env bash
# Measures a leader's heap while it sends a large snapshot (docs/chaos.md, "Snapshot sends and the
# leader's heap"). Usage:
#   snapshot-send-heap.sh FILLED_DIR PORTS CLASSPATH OUT LEADER_XMX [JVM options...]
# FILLED_DIR is what `SnapshotSendMain fill FILLED_DIR PORTS MB` left (it is copied, not changed);
# CLASSPATH is bulwark-server's test class path. r0 and r1 start with LEADER_XMX, then r2 (empty)
# starts and the leader sends it its snapshot. Every 0.5 s the leader's heap use is appended to
# OUT/heapinfo.txt (jcmd GC.heap_info) and every 5 s a class histogram (a full GC first: the live
# set) goes to OUT/histo-N.txt; 12 s in, a JFR recording with paths to GC roots goes to
# OUT/leader.jfr. It stops when r2 has applied the leader's last batch, or after 300 s.
set -u
filled=$1; ports=$2; cp=$3; out=$4; xmx=$5; shift 5; extra="$*"
J=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin
here=$(cd "$(dirname "$0")" && pwd)
run=$out/data
rm -rf "$out"; mkdir -p "$out"; cp -a "$filled" "$run"
start() { # id xmx
  nice -n 19 $J/java --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -Xmx$2 $extra \
    -Xlog:gc:file=$out/gc-$1.log:uptime,level -Dlogback.configurationFile=$here/snapshot-send-logback.xml \
    -cp "$cp" dev.bulwark.server.raft.SnapshotSendMain replica "$run" "$ports" $1 > $out/$1.log 2>&1 &
  echo $! > $out/$1.pid
}
start r0 $xmx; start r1 $xmx
leader=""
for i in $(seq 1 120); do
  sleep 1
  for id in r0 r1; do grep -q "$id role=LEADER" $out/$id.log && leader=$id; done
  [ -n "$leader" ] && break
done
echo "leader=$leader"
if [ -n "$leader" ]; then
  lpid=$(cat $out/$leader.pid)
  target=$(grep "role=LEADER" $out/$leader.log | tail -1 | sed 's/.*batch=\([0-9]*\).*/\1/')
  $J/jcmd $lpid JFR.start name=snap settings=profile > /dev/null 2>&1
  t0=$(date +%s.%N)
  start r2 1g
  for i in $(seq 1 600); do
    sleep 0.5
    $J/jcmd $lpid GC.heap_info 2>/dev/null | grep -m1 "garbage-first heap" | sed "s/^/$(date +%s.%N) /" >> $out/heapinfo.txt
    [ $i = 24 ] && $J/jcmd $lpid JFR.dump name=snap filename=$out/leader.jfr path-to-gc-roots=true > /dev/null 2>&1
    [ $((i % 10)) = 5 ] && $J/jcmd $lpid GC.class_histogram 2>/dev/null | head -12 | sed "s/^/$(date +%s) /" > $out/histo-$i.txt
    b=$(grep " r2 role" $out/r2.log | tail -1 | sed 's/.*batch=\([0-9]*\).*/\1/')
    if [ -n "$b" ] && [ "$b" -ge "$target" ]; then echo "r2 caught up to batch $b at +$(echo "$(date +%s.%N) - $t0" | bc) s"; break; fi
    kill -0 $lpid 2>/dev/null || { echo "leader exited"; break; }
  done
  echo "OutOfMemoryErrors logged by the leader: $(grep -c 'OutOfMemoryError: Java heap' $out/$leader.log)"
  echo "peak live byte[] (class histograms): $(for f in $out/histo-*.txt; do sed -n 4p $f | awk '{print $4}'; done | sort -n | tail -1)"
fi
for id in r0 r1 r2; do [ -f $out/$id.pid ] && kill $(cat $out/$id.pid) 2>/dev/null; done
wait
rm -rf "$run"
