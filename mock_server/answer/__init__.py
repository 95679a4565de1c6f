"""What a request is answered: the documented response and its value, the domain's scenarios,
recorded answers, and the bytes in a media type."""
