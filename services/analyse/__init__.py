"""Analyse local files: read records (streamed), run a task over them in length-sorted batches,
stream results to disk (resumable), export, evaluate against gold labels and compare models.

Modules: ``files`` (find and scan input files), ``readers`` (records from txt/csv/tsv/jsonl/json/md),
``engine`` (batched inference), ``results_store`` (results on disk, resume, exports, manifest),
``evaluate`` (metrics and model comparison), ``run`` (ties them together for the CLI and the GUI).
No Qt here; torch and transformers are imported inside functions only.
"""
