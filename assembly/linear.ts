// placeholder: filled in by the linear family
