/* Static web assets linked into the binary, so the page works offline and
 * the binary needs no files beside it.  Each asset is NUL-terminated. */
	.section .rodata
	.global web_docs_html
	.global web_docs_html_end
	.balign 16
web_docs_html:
	.incbin "web/docs.html"
web_docs_html_end:
	.byte 0

	.section .note.GNU-stack,"",@progbits
