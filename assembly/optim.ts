// placeholder: filled in by the optim family
