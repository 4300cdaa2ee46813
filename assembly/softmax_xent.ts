// placeholder: filled in by the softmax_xent family
