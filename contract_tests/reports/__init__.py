"""What a live run leaves behind: the summary and JUnit XML, Markdown, a HAR of every exchange, and
byte-exact reproductions."""
