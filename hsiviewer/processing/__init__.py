"""Array algorithms with no model and no Qt: stretches, preprocessing (PCA, scaling), patch geometry,
training/test splits, accuracy metrics and the evaluation of a class map on a split's test pixels."""
