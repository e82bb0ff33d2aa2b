# Reference values for radiomics_aln.sample_size (issue 18, part 4): the minimum sample size
# criteria of Riley et al. for a binary outcome (BMJ 2020;368:m441, Stat Med 2019;38:1276-96),
# written here from the papers' formulas, and the Cox-Snell R-squared implied by a C-statistic
# (Riley, Van Calster & Collins, Stat Med 2021;40:859-64) by simulating 10^6 patients with
# glm(), the way the R package pmsampsize (1.1.3, function cstat2rsq, seed 123456) does.
#   sample_size_criteria.csv  n per criterion for a grid of inputs (r2_cs or Nagelkerke given)
#   sample_size_cstat.csv     simulated R2_cs for (C, prevalence) pairs
# The published checks (pmsampsize 1.1.3 tests/testthat/test_bin.R) are quoted in the tests.
# Run from the repository root:  Rscript tests/reference/sample_size.R   (base R only)
out <- "tests/reference"

max_r2 <- function(phi) 1 - exp(2 * (phi * log(phi) + (1 - phi) * log(1 - phi)))
n_shrink <- function(p, r2, s) ceiling(p / ((s - 1) * log(1 - r2 / s)))
criteria <- function(p, phi, r2, shrinkage = 0.9, delta = 0.05, margin = 0.05) {
  s2 <- r2 / (r2 + delta * max_r2(phi))
  n1 <- n_shrink(p, r2, shrinkage)
  n2 <- n_shrink(p, r2, s2)
  n3 <- ceiling((1.96 / margin)^2 * phi * (1 - phi))
  data.frame(n1 = n1, n2 = n2, n3 = n3, final = max(n1, n2, n3), s2 = s2,
             max_r2_cs = max_r2(phi))
}

grid <- expand.grid(parameters = c(5, 12, 24, 40), prevalence = c(0.1, 0.174, 0.35, 0.5),
                    r2_cs = c(0.05, 0.15, 0.288), shrinkage = c(0.9, 0.85))
rows <- list()
for (i in seq_len(nrow(grid))) {
  g <- grid[i, ]
  rows[[i]] <- cbind(g, input = "r2_cs", value = g$r2_cs,
                     criteria(g$parameters, g$prevalence, g$r2_cs, g$shrinkage))
}
# Nagelkerke input: converted to Cox-Snell with max R2 and rounded to 3 decimals (pmsampsize)
for (nag in c(0.15, 0.3)) for (phi in c(0.174, 0.4)) {
  r2 <- round(nag * max_r2(phi), 3)
  g <- data.frame(parameters = 20, prevalence = phi, r2_cs = r2, shrinkage = 0.9)
  rows[[length(rows) + 1]] <- cbind(g, input = "r2_nagelkerke", value = nag,
                                    criteria(20, phi, r2, 0.9))
}
write.csv(do.call(rbind, rows), file.path(out, "sample_size_criteria.csv"), row.names = FALSE)

cstat_r2 <- function(cstat, phi, n = 1e6, seed = 123456) {
  mu <- sqrt(2) * qnorm(cstat)
  set.seed(seed)
  lp <- c(rnorm(phi * n, 0, 1), rnorm((1 - phi) * n, mu, 1))
  y <- c(rep(0, phi * n), rep(1, (1 - phi) * n))
  fit <- glm(y ~ lp, family = binomial)
  1 - exp(-(fit$null.deviance - fit$deviance) / n)
}
pairs <- data.frame(c_statistic = c(0.89, 0.81, 0.7, 0.75, 0.95, 0.6),
                    prevalence = c(0.174, 0.77, 0.3, 0.5, 0.4, 0.1))
pairs$r2_cs_simulated <- mapply(cstat_r2, pairs$c_statistic, pairs$prevalence)
write.csv(pairs, file.path(out, "sample_size_cstat.csv"), row.names = FALSE)

writeLines(c(R.version.string, "base R (stats::glm) only",
             sprintf("%d criteria rows, %d C-statistic pairs", length(rows), nrow(pairs))),
           file.path(out, "sample_size_versions.txt"))
