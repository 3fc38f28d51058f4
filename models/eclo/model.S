/* The ECLO preset's model, linked into the binary so that `make run`
 * serves /api/predict/eclo with nothing beside the binary.  Trained by
 * `make eclo-model`; see RECORD.md next to it. */
	.section .rodata
	.global eclo_model_data
	.global eclo_model_end
	.balign 16
eclo_model_data:
	.incbin "models/eclo/eclo.model"
eclo_model_end:
	.byte 0

	.section .note.GNU-stack,"",@progbits
