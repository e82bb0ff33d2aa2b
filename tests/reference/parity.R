# Reference values for the cases of issue 13, section 6 (tests/test_parity_r.py reads the
# outputs; the tests never need R). Run from the repository root:
#     Rscript tests/reference/parity.R
# Writes tests/reference/parity_*.csv and parity_versions.txt. Numbers with 17 significant
# digits.
#
# ResourceSelection and dcurves are not installable here (no CRAN access). hoslem.test is written
# below in plain R after ResourceSelection 0.3-6 (as tests/reference/nomogram.R does), and the
# decision-curve counts follow dcurves 0.5.1 (R/dca.r and R/test_consequences.R): risks equal to
# 0 become 0 - .Machine$double.eps and risks equal to 1 become 1 + .Machine$double.eps, then a
# patient is test positive when `risk >= threshold`, the threshold compared exactly as given.
suppressPackageStartupMessages({library(rms); library(psych); library(MASS)})
out <- "tests/reference"
fmt <- function(x) if (is.numeric(x)) sprintf("%.17g", x) else x
w <- function(df, name) {
  df[] <- lapply(df, fmt)
  write.csv(df, file.path(out, name), row.names = FALSE)
}

# ---- 1. Hosmer-Lemeshow when tied predictions form fewer groups than requested --------------
hoslem <- function(y, yhat, g = 10) {   # ResourceSelection::hoslem.test 0.3-6, line by line
  qq <- unique(quantile(yhat, probs = seq(0, 1, 1/g)))
  cutyhat <- cut(yhat, breaks = qq, include.lowest = TRUE)
  observed <- xtabs(cbind(y0 = 1 - y, y1 = y) ~ cutyhat)
  expected <- xtabs(cbind(yhat0 = 1 - yhat, yhat1 = yhat) ~ cutyhat)
  chisq <- sum((observed - expected)^2 / expected)
  c(statistic = chisq, df = g - 2, p_value = 1 - pchisq(chisq, g - 2),
    groups_formed = nlevels(cutyhat))
}
set.seed(20261206)
p_ties <- rep(c(0.1, 0.2, 0.3, 0.5, 0.7), each = 40)
y_ties <- rbinom(length(p_ties), 1, p_ties)
bw <- MASS::birthwt
f <- glm(low ~ age + lwt + factor(race) + smoke + ptl + ht + ui, binomial, bw)
p_round <- pmax(round(fitted(f), 1), 0.05)   # risks reported to one decimal, none at 0
# ties5: interpolated quantiles leave a group empty and hoslem.test returns NaN (0/0);
# radiomics_aln drops the empty group (a documented difference)
hl_cases <- list(ties5 = list(y = y_ties, p = p_ties, g = 10),
                 birthwt_round1 = list(y = bw$low, p = unname(p_round), g = 10),
                 birthwt_round1_g8 = list(y = bw$low, p = unname(p_round), g = 8))
hl_data <- do.call(rbind, lapply(names(hl_cases), function(nm)
  data.frame(case = nm, y = hl_cases[[nm]]$y, p = hl_cases[[nm]]$p)))
hl_res <- do.call(rbind, lapply(names(hl_cases), function(nm) {
  cs <- hl_cases[[nm]]; r <- hoslem(cs$y, cs$p, cs$g)
  data.frame(case = nm, g = cs$g, statistic = r[["statistic"]], df = r[["df"]],
             p_value = r[["p_value"]], groups_formed = r[["groups_formed"]])
}))
w(hl_data, "parity_hoslem_data.csv")
w(hl_res, "parity_hoslem.csv")

# ---- 2. val.prob with predictions exactly 0 or 1 --------------------------------------------
vp_in <- read.csv(file.path(out, "calibration_valprob_input.csv"))
extreme <- function(p, y, set0, set1) { p[set0] <- 0; p[set1] <- 1; data.frame(p = p, y = y) }
ev <- which(vp_in$y == 1); ne <- which(vp_in$y == 0)
vp_cases <- list(
  # confident and right (p = 0 for non-events, p = 1 for events) plus one p = 1 non-event
  zeros_ones = extreme(vp_in$p, vp_in$y, set0 = ne[1:3], set1 = c(ev[1:2], ne[4])),
  # an event predicted with probability 0: val.prob's U:Chi-sq is infinite
  event_at_zero = extreme(vp_in$p, vp_in$y, set0 = c(ev[1], ne[1]), set1 = integer(0)))
vp_data <- do.call(rbind, lapply(names(vp_cases), function(nm)
  data.frame(case = nm, vp_cases[[nm]])))
vp_res <- do.call(rbind, lapply(names(vp_cases), function(nm) {
  d <- vp_cases[[nm]]
  # val.prob warns "<n> observations deleted from logistic calibration due to probs. of 0 or 1"
  v <- suppressWarnings(val.prob(d$p, d$y, pl = FALSE))
  keep <- d$p > 0 & d$p < 1
  s2 <- Hmisc::somers2(d$p[keep], d$y[keep])   # exact C / Dxy of the calibration subset
  rbind(data.frame(case = nm, stat = names(v), value = unname(v)),
        data.frame(case = nm, stat = c("somers2_C", "somers2_Dxy", "n_used"),
                   value = c(s2[["C"]], s2[["Dxy"]], sum(keep))))
  }))
w(vp_data, "parity_valprob_data.csv")
w(vp_res, "parity_valprob.csv")

# ---- 3. ICC of a feature constant within each reading but offset between readers ------------
icc_cases <- list(
  offset_k2 = cbind(rep(5, 6), rep(7, 6)),
  offset_k3 = cbind(rep(1.5, 8), rep(2.5, 8), rep(0.25, 8)),
  offset_large = cbind(rep(12345.678, 10), rep(12399.5, 10)),
  constant = cbind(rep(5, 6), rep(5, 6)))
icc_data <- do.call(rbind, lapply(names(icc_cases), function(nm) {
  x <- icc_cases[[nm]]
  data.frame(case = nm, target = rep(seq_len(nrow(x)), ncol(x)),
             rater = rep(seq_len(ncol(x)), each = nrow(x)), rating = as.vector(x))
}))
icc_res <- do.call(rbind, lapply(names(icc_cases), function(nm) {
  r <- psych::ICC(icc_cases[[nm]], lmer = FALSE)
  res <- r$results; ms <- r$stats["MS", ]
  data.frame(case = nm, type = res$type, ICC = res$ICC, F = res$F, df1 = res$df1,
             df2 = res$df2, p = res$p, lower = res[["lower bound"]],
             upper = res[["upper bound"]], ms_subjects = ms[["subjects"]],
             ms_judges = ms[["Judges"]], ms_residual = ms[["Residual"]])
}))
w(icc_data, "parity_icc_data.csv")
w(icc_res, "parity_icc.csv")

# ---- 4. decision curves at thresholds next to 0, 1 and a float-noise grid value -------------
eps <- .Machine$double.eps
risk <- c(0, 0, 1e-13, 1e-13, 0.06, 0.06, 0.3, 0.5, 0.5, 1 - 1e-13, 1, 1)
y_dca <- c(1, 0, 1, 0, 1, 0, 0, 1, 0, 1, 1, 0)
thresholds <- c(0, 1e-13, 0.06, 0.01 + 5 * 0.01, 0.5, 1 - 1e-13)   # 0.01 + 5 * 0.01 > 0.06
r_adj <- ifelse(risk == 0, 0 - eps, ifelse(risk == 1, 1 + eps, risk))   # as dcurves::dca
n <- length(y_dca); prev <- mean(y_dca)
dca_res <- do.call(rbind, lapply(thresholds, function(t) {
  tp <- sum(r_adj >= t & y_dca == 1); fp <- sum(r_adj >= t & y_dca == 0)
  data.frame(threshold = t, tp = tp, fp = fp,
             net_benefit = tp / n - t / (1 - t) * fp / n,
             treat_all = prev - (1 - prev) * t / (1 - t))
}))
w(data.frame(risk = risk, y = y_dca), "parity_dca_data.csv")
w(dca_res, "parity_dca.csv")

writeLines(c(R.version.string, paste("rms", packageVersion("rms")),
             paste("psych", packageVersion("psych")), paste("Hmisc", packageVersion("Hmisc")),
             paste("MASS", packageVersion("MASS")),
             "hoslem.test: ResourceSelection 0.3-6 in plain R; dca: dcurves 0.5.1 rules in plain R"),
           file.path(out, "parity_versions.txt"))
