"""What one lesson owns: the tasks its workers run and its demonstrations (lessons 02-05 so far)."""
