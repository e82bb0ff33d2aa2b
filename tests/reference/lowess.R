# Reference values for radiomics_aln.calibration.lowess in tests/test_lowess.py.
#
# Run from the repository root:  Rscript tests/reference/lowess.R
# Writes tests/reference/lowess_R_input.csv (the data), lowess_R.csv (R's fits) and
# lowess_versions.txt.
#
# Every case calls stats::lowess(x, y, f = f, iter = iter) with R's default
# delta = 0.01 * diff(range(x)), exactly as radiomics_aln's lowess documents. Both CSVs are long:
#   lowess_R_input.csv  case, pos (1-based), x, y: the input in the order given to lowess
#                       (unsorted where the case says so)
#   lowess_R.csv        case, f, iter, pos, y: lowess()$y at that position (lowess()$x is
#                       sort(x), checked here rather than stored)
# Numbers are written with 17 significant digits, so they read back bit for bit.
options(digits = 15)
out <- "tests/reference"
set.seed(20261121)

cases <- list()
add <- function(name, x, y, fs = c(2 / 3, 0.3, 0.1), iters = c(0L, 3L)) {
  stopifnot(length(x) == length(y))
  cases[[length(cases) + 1L]] <<- list(name = name, x = x, y = y, fs = fs, iters = iters)
}

# continuous x, smooth signal plus noise, given in random order
x <- runif(120, 0, 10)
add("continuous", x, sin(x) + rnorm(120, sd = 0.3))
# heavy ties: 4 distinct x with 50 points each (sorted blocks), continuous and binary y
x <- rep(c(0.1, 0.25, 0.4, 0.7), each = 50)
add("ties_4x50", x, 2 * x + rnorm(200, sd = 0.2))
add("ties_4x50_binary", x, rbinom(200, 1, x))
# a clinical model of two binary predictors: 4 distinct predicted probabilities, shuffled
a <- rbinom(150, 1, 0.4); b <- rbinom(150, 1, 0.5)
p <- plogis(-1.2 + 1.1 * a + 0.8 * b)
add("two_binary_predictors", p, rbinom(150, 1, p))
# ties that straddle neighbourhood edges, unsorted: the order within ties matters
x <- sample(1:10, 60, replace = TRUE)
add("unsorted_ties", x, x / 3 + rnorm(60))
# all x equal
add("all_equal", rep(0.4, 8), c(0, 1, 0, 1, 1, 0, 0, 0))
add("all_equal_continuous", rep(-2.5, 7), c(1.5, -0.25, 3, 2, 0.125, 7, -1))
# tiny n
add("n2", c(3, 1), c(5, 2))
add("n2_tied", c(1, 1), c(0, 1))
add("n3", c(2, 0.5, 1), c(1, 4, -2))
add("n3_two_tied", c(1, 0, 1), c(0, 1, 1))
# unsorted continuous input with an outlier
x <- rnorm(40)
y <- x^2 + rnorm(40, sd = 0.2)
y[7] <- 25
add("unsorted_outlier", x, y)
# delta skipping matters: many points in tight clusters, more than 100 local fits skipped
x <- c(rnorm(500, 0.2, 0.004), rnorm(350, 0.5, 0.02), runif(150, 0, 1))
x <- sample(x)
add("clustered_n1000", x, rbinom(1000, 1, plogis(4 * (x - 0.4))), fs = c(2 / 3, 0.1))
# calibration use: binary outcome against logistic predicted probabilities
lp <- rnorm(300, -0.5, 1.3)
p <- plogis(lp)
add("binary_calibration", p, rbinom(300, 1, plogis(0.8 * lp + 0.2)))
# negative and large-magnitude x
x <- -1e6 + 250 * rnorm(80)
add("negative_large_x", x, cos(x / 100) + rnorm(80, sd = 0.1))
x <- 3e9 + 1e4 * runif(60)
add("large_x", x, 1e-3 * (x - 3e9) + rnorm(60))
x <- sort(rnorm(50, -40, 15))
add("negative_x_sorted", x, -x / 10 + rexp(50))
# exactly linear and constant y: the robustness iterations meet zero residuals
x <- sort(runif(30))
add("linear_y", x, 1 + 2 * x)
add("constant_y", x, rep(0.5, 30))
# span above 1 (ns = n) and a span below 2 points (ns = 2)
x <- runif(25)
add("span_extremes", x, x + rnorm(25, sd = 0.1), fs = c(2, 0.01))
# robustness weights that vanish over a whole neighbourhood: a block of gross outliers
x <- 1:60
y <- rnorm(60, sd = 0.1)
y[c(20:26, 40:41)] <- c(50, -60, 45, -55, 70, -40, 65, 80, -80)
add("outlier_block", x, y, fs = c(0.1, 0.2), iters = c(0L, 1L, 3L, 6L))
# extreme range: a block of ties widens the padded windows of the other local fits
add("extreme_range", c(0, 1e-300, 2e-300, rep(5, 11), 1e300), c(0:14), fs = c(0.1, 0.2, 0.3),
    iters = c(0L, 3L))

fmt <- function(v) sprintf("%.17g", v)
rows <- list()
inputs <- list()
for (cs in cases) {
  inputs[[length(inputs) + 1L]] <- data.frame(
    case = cs$name, pos = seq_along(cs$x), x = fmt(cs$x), y = fmt(cs$y)
  )
  for (f in cs$fs) {
    for (it in cs$iters) {
      fit <- lowess(cs$x, cs$y, f = f, iter = it)
      stopifnot(identical(fit$x, as.double(sort(cs$x))))
      rows[[length(rows) + 1L]] <- data.frame(
        case = cs$name, f = fmt(f), iter = it, pos = seq_along(fit$y), y = fmt(fit$y)
      )
    }
  }
}
res <- do.call(rbind, rows)
write.csv(res, file.path(out, "lowess_R.csv"), row.names = FALSE, quote = FALSE)
write.csv(do.call(rbind, inputs), file.path(out, "lowess_R_input.csv"), row.names = FALSE,
          quote = FALSE)

# The example of the issue: all 8 x tied, R gives the mean of y everywhere.
stopifnot(all(lowess(rep(0.4, 8), c(0, 1, 0, 1, 1, 0, 0, 0), iter = 0)$y == 0.375))

writeLines(c(
  R.version.string,
  "stats::lowess (C routine clowess, src/library/stats/src/lowess.c)",
  sprintf("%d cases, %d (case, f, iter) fits, %d rows", length(cases),
          length(unique(paste(res$case, res$f, res$iter))), nrow(res))
), file.path(out, "lowess_versions.txt"))
