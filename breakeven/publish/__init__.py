"""Publish stage (optional): each trained adapter pushed to the Hugging Face Hub with a generated model card,
and published adapters pulled back so that predict jobs reuse them without training."""
