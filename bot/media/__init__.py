"""Media handling: downloading linked images and videos safely, then hashing them."""
