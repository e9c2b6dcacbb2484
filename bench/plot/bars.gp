# One benchmark's results: a panel per field, one bar per row (its median), an error bar
# from the smallest to the largest of the repeated runs. Called by bench/plot/report.py:
#   gnuplot -e "datafile='X.dat'; outfile='X.png'; term='png'; ynames='a b'; xname='k'; plottitle='…'" bars.gp
# X.dat: a comment line, then per row: label, then median min max for each field of ynames.
n = words(ynames)
if (term eq 'png') {
  set terminal pngcairo size 480*n+160, 420 font 'sans,10' noenhanced
} else {
  set terminal svg size 480*n+160, 420 font 'sans,10' noenhanced
}
set output outfile
set multiplot layout 1, n title plottitle
set style fill solid 0.5 border -1
set boxwidth 0.6
set grid ytics
set xlabel xname
set yrange [0:*]
set offsets 0.5, 0.5, 0, 0
set xtics rotate by -30 left
do for [i=1:n] {
  set title word(ynames, i)
  plot datafile using 0:(column(3*i-1)):xticlabels(1) with boxes notitle, \
       '' using 0:(column(3*i-1)):(column(3*i)):(column(3*i+1)) with yerrorbars lc rgb 'black' pt 7 ps 0.5 notitle
}
unset multiplot
