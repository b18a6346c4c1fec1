"""Customer-experience feedback: surveys at the moment of the experience, comments and scores."""
