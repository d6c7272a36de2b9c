"""The demo city (seed_demo): above every app, since it builds data of all of them."""
