"""Models: Keras networks, scikit-learn members, the soft-voting ensemble and the bundles they are saved as."""
