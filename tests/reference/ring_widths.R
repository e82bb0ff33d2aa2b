# Reference for tests/test_ring_widths.py::test_ring_comparison_against_R:
# each width's score AUC with its DeLong CI (pROC ci.auc), paired DeLong tests of the chosen
# width (peritumoral_2mm) against each other (pROC roc.test, method "delong", paired) and
# Holm's adjustment within the family (p.adjust). Run: Rscript ring_widths.R (in this folder).
suppressPackageStartupMessages(library(pROC))
d <- read.csv("ring_widths_scores.csv")
rois <- c("peritumoral_1mm", "peritumoral_2mm", "peritumoral_3mm", "shell_2_5mm")
rocs <- lapply(rois, function(r) roc(d$y, d[[r]], levels = c(0, 1), direction = "<", quiet = TRUE))
names(rocs) <- rois
auc <- do.call(rbind, lapply(rois, function(r) {
  ci <- ci.auc(rocs[[r]], method = "delong")
  data.frame(roi = r, estimate = ci[2], ci_low = ci[1], ci_high = ci[3])
}))
others <- setdiff(rois, "peritumoral_2mm")
dl <- do.call(rbind, lapply(others, function(r) {
  t <- roc.test(rocs[["peritumoral_2mm"]], rocs[[r]], method = "delong", paired = TRUE)
  data.frame(model_1 = "peritumoral_2mm", model_2 = r, estimate = unname(t$estimate[1] - t$estimate[2]),
             z = unname(t$statistic), p_value = t$p.value)
}))
dl$p_adjusted <- p.adjust(dl$p_value, method = "holm")
write.csv(auc, "ring_widths_auc_R.csv", row.names = FALSE)
write.csv(dl, "ring_widths_delong_R.csv", row.names = FALSE)
writeLines(c(R.version.string, paste("pROC", packageVersion("pROC"))), "ring_widths_versions.txt")
