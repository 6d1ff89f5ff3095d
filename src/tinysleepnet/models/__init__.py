"""Trained models as users get them: the TrainedModel, model cards, installed models."""
