"""Features: clip-level vectors (the spectral "rich" family, openSMILE functionals) and their tables."""
