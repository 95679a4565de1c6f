"""The document: files read into one document, its references followed and checked, its shape
checked, its paths matched. Below everything that reads the document."""
