# Reference values for the report's tables (issue 15):
#   p_adjust.csv        stats::p.adjust (holm, bonferroni, none): ties, NA (stays NA, n counts
#                       the non-NA values), p-values that reach 1, zeros;
#   odds_ratio_per.csv  odds ratios per `per` units of a continuous predictor (MASS::birthwt,
#                       tests/reference/birthwt.csv): exp(per * coef) and
#                       exp(per * confint.default), for a univariate and a multivariable glm.
# Run from the repository root:  Rscript tests/reference/report_tables.R
# Only base R 'stats' is used.
out <- "tests/reference"

cases <- list(
  basic = c(0.01, 0.04, 0.03, 0.005),
  ties = c(0.02, 0.02, 0.04, 0.01, 0.04, 0.02),
  missing = c(0.01, NA, 0.04, NA, 0.3),
  reach_one = c(0.3, 0.6, 0.9, 1, 0.45, 0.02),
  single = c(0.04),
  all_missing = c(NA, NA),
  zeros = c(0, 0, 0.5, 1e-20),
  tiny = c(4.694e-16, 2.2e-9, 0.0008, 0.7)
)
set.seed(15)
cases$random <- round(runif(12)^3, 6)
rows <- list()
for (name in names(cases)) {
  p <- cases[[name]]
  for (method in c("holm", "bonferroni", "none")) {
    rows[[length(rows) + 1]] <- data.frame(case = name, method = method, i = seq_along(p),
                                           p = p, adjusted = p.adjust(p, method))
  }
}
res <- do.call(rbind, rows)
res$p <- sprintf("%.17g", res$p)
res$adjusted <- sprintf("%.17g", res$adjusted)
write.csv(res, file.path(out, "p_adjust.csv"), row.names = FALSE, quote = FALSE)

d <- read.csv(file.path(out, "birthwt.csv"))
or_rows <- list()
add <- function(model, fit, per) {
  b <- coef(fit)
  ci <- confint.default(fit)  # Wald: b -/+ qnorm(0.975) se
  for (term in names(per)) {
    k <- per[[term]]
    or_rows[[length(or_rows) + 1]] <<- data.frame(
      model = model, term = term, per = k, beta = b[[term]],
      odds_ratio = exp(k * b[[term]]), or_ci_low = exp(k * ci[term, 1]),
      or_ci_high = exp(k * ci[term, 2]), p_value = summary(fit)$coefficients[term, 4])
  }
}
# converged to machine precision (glm's default epsilon 1e-8 leaves ~1e-7 in the SEs)
ctl <- glm.control(epsilon = 1e-14, maxit = 100)
add("univariate_age", glm(low ~ age, family = binomial, data = d, control = ctl), list(age = 10))
add("univariate_lwt", glm(low ~ lwt, family = binomial, data = d, control = ctl), list(lwt = 10))
add("multivariable", glm(low ~ age + lwt + smoke, family = binomial, data = d, control = ctl),
    list(age = 5, lwt = 10, smoke = 1))
ors <- do.call(rbind, or_rows)
for (col in c("beta", "odds_ratio", "or_ci_low", "or_ci_high", "p_value")) {
  ors[[col]] <- sprintf("%.17g", ors[[col]])
}
write.csv(ors, file.path(out, "odds_ratio_per.csv"), row.names = FALSE, quote = FALSE)

writeLines(c(
  R.version.string,
  "stats::p.adjust; stats::glm(family = binomial), stats::confint.default",
  sprintf("%d p.adjust cases x 3 methods, %d rows; %d odds ratios", length(cases), nrow(res),
          nrow(ors))
), file.path(out, "report_tables_versions.txt"))
