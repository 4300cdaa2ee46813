// placeholder: filled in by the activation family
