// placeholder: filled in by the elementwise family
