# Reference values for radiomics_aln.metrics and radiomics_aln.decision.
#
# Run from the repository root:  Rscript tests/reference/metrics.R
# Writes (next to this script):
#   aSAH.csv                    pROC's aSAH data set (package pROC, GPL-3; data from Turck N,
#                               Vutskits L, Sanchez-Pena P, et al. (2010) Intensive Care Med
#                               36:107-115, doi:10.1007/s00134-009-1641-y), outcome coded
#                               Poor = 1, Good = 0; wfns as its grade 1-5.
#   metrics_reference.json      every scalar reference value, with R and package versions.
#   metrics_sim_data.csv        simulated risks (generated here with a fixed seed) for NRI/IDI,
#                               decision curves and clinical impact.
#   metrics_dca_reference.csv   net benefit / treat-all / interventions avoided / clinical impact.
#
# pROC and Hmisc are installed here. dcurves, rmda and PredictABEL are NOT installable on this
# machine, so their computations are written below in plain R, following each package's documented
# algorithm (see the comments at each block).
suppressMessages({
  library(pROC)
  library(Hmisc)
  library(jsonlite)
})
here <- tryCatch(dirname(normalizePath(sys.frame(1)$ofile)), error = function(e) NULL)
if (is.null(here)) {
  args <- commandArgs(trailingOnly = FALSE)
  f <- sub("^--file=", "", args[grep("^--file=", args)])
  here <- dirname(normalizePath(f))
}
out <- list(
  r_version = R.version.string,
  pROC_version = as.character(packageVersion("pROC")),
  Hmisc_version = as.character(packageVersion("Hmisc")),
  generated = format(Sys.time(), "%Y-%m-%d", tz = "UTC")
)

# ---------------------------------------------------------------- aSAH -----------------------
data(aSAH)
asah <- data.frame(
  outcome = as.integer(aSAH$outcome == "Poor"),
  wfns = as.integer(as.character(aSAH$wfns)),
  s100b = aSAH$s100b,
  ndka = aSAH$ndka,
  age = aSAH$age,
  gender = as.character(aSAH$gender)
)
write.csv(asah, file.path(here, "aSAH.csv"), row.names = FALSE)

markers <- c("s100b", "wfns", "ndka")
rocs <- list()
for (m in markers) {
  # levels = c(control, case); direction "auto" as pROC's default (median rule)
  r <- roc(aSAH$outcome, as.numeric(aSAH[[m]]), levels = c("Good", "Poor"), quiet = TRUE)
  rocs[[m]] <- r
  ci_d <- ci.auc(r, method = "delong")
  best <- coords(r, "best", best.method = "youden", ret = c("threshold", "sensitivity", "specificity"),
                 transpose = FALSE)
  out[[paste0("auc_", m)]] <- list(
    call = sprintf("roc(aSAH$outcome, aSAH$%s); ci.auc(method='delong'); var(roc); coords('best')", m),
    direction = r$direction,
    auc = as.numeric(auc(r)),
    var_delong = var(r, method = "delong"),
    ci_low = ci_d[1], ci_high = ci_d[3],
    youden_threshold = best$threshold, youden_sensitivity = best$sensitivity,
    youden_specificity = best$specificity, youden_n_best = nrow(best)
  )
}
# the full ROC table of s100b (pROC thresholds = midpoints between sorted unique values)
r <- rocs$s100b
out$roc_s100b <- list(thresholds = r$thresholds, sensitivities = r$sensitivities,
                      specificities = r$specificities)

# DeLong, paired
for (pair in list(c("wfns", "s100b"), c("ndka", "s100b"))) {
  t <- roc.test(rocs[[pair[1]]], rocs[[pair[2]]], method = "delong", paired = TRUE)
  out[[paste0("delong_", pair[1], "_", pair[2])]] <- list(
    call = sprintf("roc.test(roc(outcome, %s), roc(outcome, %s), method='delong', paired=TRUE)", pair[1], pair[2]),
    auc_1 = unname(t$estimate[1]), auc_2 = unname(t$estimate[2]),
    z = unname(t$statistic), p_value = t$p.value,
    ci_low = t$conf.int[1], ci_high = t$conf.int[2]
  )
}

# DeLong, unpaired: s100b in women vs s100b in men (two independent cohorts)
rf <- roc(aSAH$outcome[aSAH$gender == "Female"], aSAH$s100b[aSAH$gender == "Female"],
          levels = c("Good", "Poor"), direction = "<", quiet = TRUE)
rm_ <- roc(aSAH$outcome[aSAH$gender == "Male"], aSAH$s100b[aSAH$gender == "Male"],
           levels = c("Good", "Poor"), direction = "<", quiet = TRUE)
tu <- roc.test(rf, rm_, method = "delong", paired = FALSE)
out$delong_unpaired_s100b_female_male <- list(
  call = "roc.test(roc(Female), roc(Male), method='delong', paired=FALSE)",
  auc_1 = unname(tu$estimate[1]), auc_2 = unname(tu$estimate[2]),
  statistic = unname(tu$statistic), df = unname(tu$parameter), p_value = tu$p.value
)

# auto direction on a reversed marker: pROC picks ">" and reports AUC >= 0.5
rneg <- roc(aSAH$outcome, -aSAH$s100b, levels = c("Good", "Poor"), quiet = TRUE)
rneg_fixed <- roc(aSAH$outcome, -aSAH$s100b, levels = c("Good", "Poor"), direction = "<", quiet = TRUE)
out$auto_direction_neg_s100b <- list(direction = rneg$direction, auc = as.numeric(auc(rneg)),
                                     auc_direction_lt = as.numeric(auc(rneg_fixed)))

# stratified bootstrap CI (distribution check, not bitwise: R's RNG differs from numpy's)
set.seed(20260101)
ci_b <- ci.auc(rocs$s100b, method = "bootstrap", boot.n = 2000, boot.stratified = TRUE)
set.seed(20260102)
var_b <- var(rocs$s100b, method = "bootstrap", boot.n = 2000, boot.stratified = TRUE)
out$bootstrap_s100b <- list(call = "set.seed(20260101); ci.auc(roc_s100b, method='bootstrap', boot.n=2000, boot.stratified=TRUE); set.seed(20260102); var(roc_s100b, method='bootstrap', boot.n=2000)",
                            ci_low = ci_b[1], median = ci_b[2], ci_high = ci_b[3], var = var_b)
# one-sided paired DeLong p-values (alternative = "greater" / "less")
tg <- roc.test(rocs$wfns, rocs$s100b, method = "delong", paired = TRUE, alternative = "greater")
tl <- roc.test(rocs$wfns, rocs$s100b, method = "delong", paired = TRUE, alternative = "less")
out$delong_wfns_s100b_one_sided <- list(p_greater = tg$p.value, p_less = tl$p.value)

# diagnostic metrics at the s100b Youden threshold (rule: predictor >= threshold is positive)
thr <- out$auc_s100b$youden_threshold
pos <- asah$s100b >= thr
tp <- sum(pos & asah$outcome == 1); fp <- sum(pos & asah$outcome == 0)
tn <- sum(!pos & asah$outcome == 0); fn <- sum(!pos & asah$outcome == 1)
props <- list(accuracy = c(tp + tn, tp + tn + fp + fn), sensitivity = c(tp, tp + fn),
              specificity = c(tn, tn + fp), ppv = c(tp, tp + fp), npv = c(tn, tn + fn))
dm <- list(threshold = thr, tp = tp, fp = fp, tn = tn, fn = fn)
for (nm in names(props)) {
  x <- props[[nm]][1]; n <- props[[nm]][2]
  w <- prop.test(x, n, correct = FALSE)$conf.int     # Wilson score interval
  cp <- binom.test(x, n)$conf.int                    # Clopper-Pearson exact interval
  dm[[nm]] <- list(estimate = x / n, wilson_low = w[1], wilson_high = w[2],
                   cp_low = cp[1], cp_high = cp[2])
}
out$diagnostic_s100b <- dm

# ---------------------------------------------------------- simulated risks -------------------
set.seed(7)
n <- 300
x1 <- rnorm(n); x2 <- rnorm(n)
y <- rbinom(n, 1, plogis(-0.8 + 1.0 * x1 + 0.8 * x2))
# rounded to 2 decimals so that risks tie each other and tie the 0.01-grid thresholds
p_old <- round(plogis(-0.8 + 1.1 * x1), 2)
p_new <- round(plogis(-0.8 + 1.0 * x1 + 0.7 * x2), 2)
sim <- data.frame(y = y, p_old = p_old, p_new = p_new)
write.csv(sim, file.path(here, "metrics_sim_data.csv"), row.names = FALSE)

# Hmisc::improveProb: continuous NRI and IDI
ip <- improveProb(p_old, p_new, y)
out$improveProb <- c(list(call = "Hmisc::improveProb(x1 = p_old, x2 = p_new, y = y)"),
                     unclass(ip)[c("n", "na", "nb", "pup.ev", "pup.ne", "pdown.ev", "pdown.ne",
                                   "nri", "se.nri", "z.nri", "nri.ev", "se.nri.ev", "z.nri.ev",
                                   "nri.ne", "se.nri.ne", "z.nri.ne", "improveSens",
                                   "improveSpec", "idi", "se.idi", "z.idi")])

# PredictABEL::reclassification (not installable here), written out in plain R following its
# source: categories by cut(risk, breaks = cutoff, include.lowest = TRUE, right = FALSE), i.e.
# [a, b) with the last class closed, then improveProb() on the category numbers (scaled by the
# number of levels); NRI CI = nri -/+ 1.96 * se, p = 2 * pnorm(-|z|).
cutoff <- c(0, 0.2, 0.4, 1)
c1 <- cut(p_old, breaks = cutoff, include.lowest = TRUE, right = FALSE)
c2 <- cut(p_new, breaks = cutoff, include.lowest = TRUE, right = FALSE)
k <- length(levels(c1))
ipc <- improveProb(as.numeric(c1) / k, as.numeric(c2) / k, y)
out$nri_categorical <- c(list(call = "PredictABEL-style: improveProb(as.numeric(cut(p, c(0,.2,.4,1), right=FALSE, include.lowest=TRUE))/3, ...)",
                              cutoff = cutoff,
                              ci_low = ipc$nri - 1.96 * ipc$se.nri, ci_high = ipc$nri + 1.96 * ipc$se.nri,
                              p_value = 2 * pnorm(-abs(ipc$z.nri))),
                         unclass(ipc)[c("nri", "se.nri", "z.nri", "nri.ev", "se.nri.ev", "nri.ne",
                                        "se.nri.ne", "pup.ev", "pdown.ev", "pup.ne", "pdown.ne")])

# Decision curve (Vickers & Elkin 2006), written out in plain R as dcurves::dca computes it
# (dcurves' .calculate_test_consequences classifies risk >= threshold as test positive):
#   NB = TP/n - FP/n * pt / (1 - pt);  treat all: prev - (1 - prev) * pt / (1 - pt)
#   net interventions avoided per 100 = (NB - NB_all) / (pt / (1 - pt)) * 100
# Clinical impact (rmda::plot_clinical_impact): number high risk = population * P(risk >= pt),
# with event = population * P(risk >= pt, y = 1).  rmda itself uses risk > pt (strict): see
# the strict columns, computed with `>`.
th <- seq(0.01, 0.99, by = 0.01)
th <- round(th, 2)   # exact decimal grid, as numpy's np.round(np.arange(0.01, 1, 0.01), 2)
rows <- list()
prev <- mean(y)
for (model in c("p_old", "p_new")) {
  p <- sim[[model]]
  for (t in th) {
    pos <- p >= t
    tp <- sum(pos & y == 1); fp <- sum(pos & y == 0)
    nb <- tp / n - fp / n * t / (1 - t)
    nb_all <- prev - (1 - prev) * t / (1 - t)
    pos_s <- p > t
    rows[[length(rows) + 1]] <- data.frame(
      model = model, threshold = t, tp = tp, fp = fp, net_benefit = nb, treat_all = nb_all,
      net_interventions_avoided = (nb - nb_all) / (t / (1 - t)) * 100,
      n_high_risk = 1000 * mean(pos), n_high_risk_events = 1000 * mean(pos & y == 1),
      net_benefit_strict = sum(pos_s & y == 1) / n - sum(pos_s & y == 0) / n * t / (1 - t),
      n_high_risk_strict = 1000 * mean(pos_s), n_high_risk_events_strict = 1000 * mean(pos_s & y == 1)
    )
  }
}
dca <- do.call(rbind, rows)
write.csv(dca, file.path(here, "metrics_dca_reference.csv"), row.names = FALSE)
out$n_ties_with_thresholds <- sum(round(sim$p_new, 2) %in% th)

writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE),
           file.path(here, "metrics_reference.json"))
cat("wrote reference files to", here, "\n")
