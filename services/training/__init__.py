"""Fine-tuning: load labelled data, train with transformers' Trainer, measure, save to the library.

Modules: ``data`` (files → checked examples and labels), ``metrics`` (accuracy, macro-F1, BIO entity
F1, confusion matrix), ``trainer`` (the training run), ``predict`` (batched inference used for the
final report and for checks), ``card`` (the model card), ``save`` (into the library) and ``starter``
(the built-in starter sentiment model). torch/transformers are imported inside functions only.
"""

TEXT_CLASSIFICATION = "text-classification"
TOKEN_CLASSIFICATION = "token-classification"
TRAIN_TASKS = {
    TEXT_CLASSIFICATION: "Text classification",
    TOKEN_CLASSIFICATION: "Token classification (NER)",
}
