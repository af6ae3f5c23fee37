# The chart of bench/README.md, from memfd-bench's CSV:
#   gnuplot -e "csv='bench/results.csv'; png='bench/chart.png'" bench/chart.gp
if (!exists("csv")) csv = "bench/results.csv"
if (!exists("png")) png = "bench/chart.png"

set terminal pngcairo size 1200,1350 font "sans,10" noenhanced
set output png
set datafile separator ","
# The rows of one section (and variant), in the order they were measured.
rows(section) = sprintf("< awk -F, '$1 == \"%s\"' '%s'", section, csv)
variant(section, name) = sprintf("< awk -F, '$1 == \"%s\" && $2 == \"%s\"' '%s'", section, name, csv)
GiB = 1073741824.0

set multiplot

# Handoff: the top third, log-log.
set size 1,0.36
set origin 0,0.64
set title "handoff to another process: microseconds per buffer (median)"
set logscale xy
set xlabel "buffer size"
set xtics ("4 KiB" 4096, "16 KiB" 16384, "64 KiB" 65536, "256 KiB" 262144, "1 MiB" 1048576, \
           "4 MiB" 4194304, "16 MiB" 16777216, "64 MiB" 67108864, "256 MiB" 268435456, "1 GiB" 1073741824)
set xrange [3000:1.5*GiB]
set format y "%.0f"
set key top left box opaque
set grid
# Solid: each buffer acknowledged before the next; dashed: streamed.
plot variant("handoff", "mfd_send+mfd_recv") using 3:($6/1000) with linespoints lw 2 pt 7 lc 1 \
       title "mfd_send; mfd_recv (seal check), map, read first and last byte", \
     variant("handoff", "pipe copy") using 3:($6/1000) with linespoints lw 2 pt 5 lc 2 title "copy through a pipe", \
     variant("handoff", "socket copy") using 3:($6/1000) with linespoints lw 2 pt 9 lc 3 title "copy through a socket", \
     variant("stream", "mfd_send+mfd_recv") using 3:($6/1000) with linespoints lw 1 dt 2 pt 6 lc 1 \
       title "the same, streamed (dashed): no wait for each acknowledgment", \
     variant("stream", "pipe copy") using 3:($6/1000) with linespoints lw 1 dt 2 pt 4 lc 2 notitle, \
     variant("stream", "socket copy") using 3:($6/1000) with linespoints lw 1 dt 2 pt 8 lc 3 notitle

# Bar charts: the bottom half.
unset logscale
unset xrange
set format y "%g"
set xtics autofreq
set size 0.5,0.31
set style fill solid 0.6 border -1
set boxwidth 0.6
set yrange [0:*]
set offsets 0.3, 0.3, graph 0.12, 0
unset xlabel
set key off
unset grid
set grid ytics

set origin 0,0.33
set title "lifecycle: create, size, seal, map, touch, unmap, free"
set ylabel "nanoseconds per cycle (median)"
plot rows("lifecycle") using 0:6:xtic(2) with boxes lc rgb "#4477aa", \
     rows("lifecycle") using 0:6:(sprintf("%.0f", $6)) with labels offset 0,0.8

set origin 0.5,0.33
stats rows("fill") using 3 nooutput
fill_size = STATS_max >= GiB ? sprintf("%.0f GiB", STATS_max / GiB) : sprintf("%.0f MiB", STATS_max / 1048576)
set title sprintf("fill a new %s buffer, from nothing to filled", fill_size)
set rmargin 4
set bmargin 11
set ylabel "GiB/s (median)"
set xtics rotate by 30 right font ",9"
plot rows("fill") using 0:($3/GiB/($6/1e9)):xtic(2) with boxes lc rgb "#228833", \
     rows("fill") using 0:($3/GiB/($6/1e9)):(sprintf("%.2f", $3/GiB/($6/1e9))) with labels offset 0,0.8

# Rings: the bottom third. Streamed throughput by message size, log-log.
unset rmargin
unset bmargin
set xtics norotate font ",10"
set origin 0,0
set size 0.5,0.33
set title "streamed messages to another process: MB/s (median)"
set logscale xy
set xrange [40:2000000]
set yrange [*:*]
set xtics ("64 B" 64, "4 KiB" 4096, "1 MiB" 1048576)
set format y "%.0f"
set ylabel "MB/s"
set xlabel "message size"
set key top left box opaque font ",9"
set grid
plot variant("ring", "ring") using 3:($3*1e3/$6) with linespoints lw 2 pt 7 lc 1 title "ring, in place", \
     variant("ring", "ring send/recv") using 3:($3*1e3/$6) with linespoints lw 1 dt 2 pt 6 lc 1 title "ring, by copy", \
     variant("ring", "pipe") using 3:($3*1e3/$6) with linespoints lw 2 pt 5 lc 2 title "pipe", \
     variant("ring", "seqpacket socket") using 3:($3*1e3/$6) with linespoints lw 2 pt 9 lc 3 title "seqpacket socket", \
     variant("ring", "handoff") using 3:($3*1e3/$6) with linespoints lw 2 pt 11 lc 4 title "handoff, a sealed buffer a message"

# Ping-pong: bars.
unset logscale
unset xrange
unset xlabel
set key off
unset grid
set grid ytics
set xtics autofreq
set yrange [0:*]
set format y "%g"
set origin 0.5,0
set title "ping-pong: 64 B there and back, microseconds (median)"
set ylabel "microseconds per round trip"
set bmargin 6
set xtics rotate by 20 right font ",9"
# (Not the polled ring, which only two idle CPUs make sense of: see the table.)
pingpong = sprintf("< awk -F, '$1 == \"ring-pingpong\" && $2 != \"ring (polled)\"' '%s'", csv)
plot pingpong using 0:($6/1000):xtic(2) with boxes lc rgb "#aa3377", \
     pingpong using 0:($6/1000):(sprintf("%.2f", $6/1000)) with labels offset 0,0.8

unset multiplot
