# Reference values for radiomics_aln.score / radiomics_aln._lasso from R glmnet.
#
# Run from the repository root:  Rscript tests/reference/glmnet.R
# Writes tests/reference/glmnet_*.csv and glmnet_meta.json (R and glmnet versions, settings).
#
# The fits use thresh = 1e-24 and maxit = 1e8 (glmnet's defaults are 1e-7 and 1e5). glmnet stops
# when the largest weighted squared coefficient change of a pass falls below thresh times the null
# deviance, so thresh = 1e-14 leaves standardized coefficients uncertain by ~1e-6 (1.3e-6 on the
# `tall` data, 1.2e-4 late on the `wide` path, measured against thresh = 1e-20); at 1e-24 the
# stored values are the exact minimizers to ~1e-9, which is what the Python solver is compared with.
suppressPackageStartupMessages(library(glmnet))
out_dir <- "tests/reference"
set.seed(20261121)

make_data <- function(n, p, rho, scales) {
  # radiomics-like: blocks of correlated columns on very different scales
  z <- matrix(rnorm(n * p), n, p)
  common <- rnorm(n)
  x <- sqrt(rho) * common + sqrt(1 - rho) * z
  for (j in seq(2, p, by = 3)) x[, j] <- 0.8 * x[, j - 1] + 0.6 * x[, j]
  x <- sweep(x, 2, scales, "*")
  eta <- -0.3 + 1.2 * x[, 1] / scales[1] - 0.8 * x[, 4] / scales[4] + 0.5 * x[, 7] / scales[7]
  y <- rbinom(n, 1, 1 / (1 + exp(-eta)))
  colnames(x) <- sprintf("f%02d", seq_len(p))
  list(x = x, y = y)
}

stratified_folds <- function(y, k) {
  foldid <- integer(length(y))
  for (cls in c(0, 1)) {
    idx <- which(y == cls)
    foldid[idx] <- sample(rep(seq_len(k), length.out = length(idx)))
  }
  foldid
}

datasets <- list(
  tall = c(make_data(150, 25, 0.3, 10^runif(25, -2, 3)), list(k = 10)),
  wide = c(make_data(60, 80, 0.5, 10^runif(80, -1, 2)), list(k = 5))
)

fixed_lambda <- c(tall = 0.02, wide = 0.05)
all_path <- list(); all_cv <- list(); all_fixed <- list(); all_opt <- list()
for (nm in names(datasets)) {
  d <- datasets[[nm]]
  foldid <- stratified_folds(d$y, d$k)
  write.csv(data.frame(d$x, y = d$y, foldid = foldid),
            file.path(out_dir, sprintf("glmnet_data_%s.csv", nm)), row.names = FALSE)
  # glmnet(x, y, family = "binomial", alpha = 1, standardize = TRUE), default lambda path
  fit <- glmnet(d$x, d$y, family = "binomial", alpha = 1, standardize = TRUE,
                thresh = 1e-24, maxit = 1e8)
  cf <- as.matrix(coef(fit))
  all_path[[nm]] <- data.frame(dataset = nm, step = seq_along(fit$lambda), lambda = fit$lambda,
                               dev_ratio = fit$dev.ratio, t(cf), check.names = FALSE)
  # coefficients at one fixed lambda, refitted exactly (coef(..., exact = TRUE))
  cfx <- as.matrix(coef(fit, s = fixed_lambda[[nm]], exact = TRUE, x = d$x, y = d$y,
                        family = "binomial", thresh = 1e-24, maxit = 1e8))
  all_fixed[[nm]] <- data.frame(dataset = nm, lambda = fixed_lambda[[nm]], t(cfx),
                                check.names = FALSE)
  for (tm in c("deviance", "auc")) {
    cvf <- cv.glmnet(d$x, d$y, family = "binomial", alpha = 1, standardize = TRUE,
                     foldid = foldid, type.measure = tm, thresh = 1e-24, maxit = 1e8)
    all_cv[[paste(nm, tm)]] <- data.frame(dataset = nm, measure = tm, lambda = cvf$lambda,
                                          cvm = cvf$cvm, cvsd = cvf$cvsd, nzero = cvf$nzero)
    all_opt[[paste(nm, tm)]] <- data.frame(dataset = nm, measure = tm,
                                           lambda_min = cvf$lambda.min,
                                           lambda_1se = cvf$lambda.1se)
  }
}
# columns differ between datasets (25 vs 80 features): one file per dataset for the paths
for (nm in names(datasets)) {
  write.csv(all_path[[nm]], file.path(out_dir, sprintf("glmnet_path_%s.csv", nm)), row.names = FALSE)
  write.csv(all_fixed[[nm]], file.path(out_dir, sprintf("glmnet_fixed_%s.csv", nm)), row.names = FALSE)
}
write.csv(do.call(rbind, all_cv), file.path(out_dir, "glmnet_cv.csv"), row.names = FALSE)
write.csv(do.call(rbind, all_opt), file.path(out_dir, "glmnet_cv_opt.csv"), row.names = FALSE)
# univariate screens of radiomics_aln.selection.UnivariateFilter on the first 10 features:
# Welch t.test and wilcox.test (R's default: exact p when both groups < 50 and no ties)
uni <- list()
for (nm in names(datasets)) {
  d <- datasets[[nm]]
  for (j in 1:10) {
    x1 <- d$x[d$y == 1, j]; x0 <- d$x[d$y == 0, j]
    uni[[length(uni) + 1]] <- data.frame(dataset = nm, feature = colnames(d$x)[j],
      t_p = t.test(x1, x0)$p.value, t_stat = unname(t.test(x1, x0)$statistic),
      w_p = wilcox.test(x1, x0)$p.value, w_stat = unname(wilcox.test(x1, x0)$statistic))
  }
}
write.csv(do.call(rbind, uni), file.path(out_dir, "glmnet_univariate.csv"), row.names = FALSE)
meta <- sprintf(paste0('{\n  "r_version": "%s",\n  "glmnet_version": "%s",\n',
                       '  "thresh": 1e-24,\n  "maxit": 1e8,\n',
                       '  "call": "glmnet(x, y, family = \\"binomial\\", alpha = 1, standardize = TRUE, thresh = 1e-24, maxit = 1e8); cv.glmnet(..., foldid = foldid, type.measure = \\"deviance\\" | \\"auc\\")",\n',
                       '  "fixed_lambda": {"tall": %s, "wide": %s}\n}\n'),
                R.version.string, as.character(packageVersion("glmnet")),
                fixed_lambda[["tall"]], fixed_lambda[["wide"]])
writeLines(meta, file.path(out_dir, "glmnet_meta.json"))
