// placeholder: filled in by the pool family
