"""A request as it arrives: parameters decoded from their styles, bodies of every media type read
into values, the media type an answer is asked in."""
