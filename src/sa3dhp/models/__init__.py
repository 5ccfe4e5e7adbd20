"""Networks: pose prior, motion prior, image-to-latent regressor, relation networks."""
