"""Model loaders (adapters): MLflow models, skops files and joblib/pickle files from trusted roots."""
