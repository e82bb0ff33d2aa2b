# Reference values for radiomics_aln.harmonization.ComBat in tests/test_harmonization.py.
#
# Run from the repository root:  Rscript tests/reference/combat.R
# Writes tests/reference/combat_data.csv (the input: case, batch, age, sex, f01..f12),
# combat_R.csv (long: variant, case, feature, value = sva::ComBat's adjusted value) and
# combat_versions.txt.
#
# sva::ComBat takes features x samples; the data here are samples x features (our layout) and
# are transposed on the way in and out. Numbers are written with 17 significant digits.
suppressPackageStartupMessages(library(sva))
out <- "tests/reference"
set.seed(20261206)

sizes <- c(A = 30, B = 20, C = 14)
batch <- rep(names(sizes), sizes)
n <- length(batch)
p <- 12
age <- round(rnorm(n, 55, 10), 1)
sex <- rbinom(n, 1, 0.5)
# features on very different scales (as radiomics features are), with a batch-specific shift
# and scale per feature, and an age effect on a few features
base_mean <- 10^runif(p, -1, 3)
base_sd <- base_mean * runif(p, 0.05, 0.4)
shift <- matrix(rnorm(3 * p, 0, 0.8), 3, p, dimnames = list(names(sizes), NULL))
scale <- matrix(exp(rnorm(3 * p, 0, 0.35)), 3, p, dimnames = list(names(sizes), NULL))
x <- matrix(0, n, p)
for (j in 1:p) {
  z <- rnorm(n) + (j <= 4) * 0.05 * (age - 55) + (j == 5) * 0.7 * sex
  x[, j] <- base_mean[j] + base_sd[j] * (shift[batch, j] + scale[batch, j] * z)
}
colnames(x) <- sprintf("f%02d", 1:p)
cases <- sprintf("c%03d", 1:n)
data <- data.frame(case = cases, batch = batch, age = age, sex = sex, x, check.names = FALSE)
num <- sapply(data, is.numeric)
data[num] <- lapply(data[num], function(v) sprintf("%.17g", v))
write.csv(data, file.path(out, "combat_data.csv"), row.names = FALSE, quote = FALSE)

rows <- list()
run <- function(variant, keep, ...) {
  adj <- ComBat(t(x[keep, , drop = FALSE]), batch[keep], ...)
  adj <- t(adj)
  rows[[length(rows) + 1L]] <<- data.frame(
    variant = variant, case = rep(cases[keep], p),
    feature = rep(colnames(x), each = sum(keep)), value = as.vector(adj)
  )
}
all <- rep(TRUE, n)
mod <- model.matrix(~ age + sex)
quietly <- function(expr) invisible(suppressMessages(capture.output(expr)))
quietly(run("parametric", all))
quietly(run("nonparametric", all, par.prior = FALSE))
quietly(run("mean_only", all, mean.only = TRUE))
quietly(run("mean_only_nonparametric", all, mean.only = TRUE, par.prior = FALSE))
quietly(run("parametric_covariates", all, mod = mod))
quietly(run("nonparametric_covariates", all, mod = mod, par.prior = FALSE))
quietly(run("ref_A", all, ref.batch = "A"))
quietly(run("ref_A_nonparametric", all, ref.batch = "A", par.prior = FALSE))
quietly(run("ref_A_mean_only", all, ref.batch = "A", mean.only = TRUE))
quietly(run("ref_A_covariates", all, ref.batch = "A", mod = mod))
# a batch of one sample: sva switches every batch to the mean-only model
single <- all
single[batch == "C"] <- FALSE
single[which(batch == "C")[1]] <- TRUE
quietly(run("single_sample_batch", single))

res <- do.call(rbind, rows)
res$value <- sprintf("%.17g", res$value)
write.csv(res, file.path(out, "combat_R.csv"), row.names = FALSE, quote = FALSE)
writeLines(c(R.version.string, paste("sva", packageVersion("sva")),
             paste(nrow(res), "rows,", length(rows), "variants")),
           file.path(out, "combat_versions.txt"))
