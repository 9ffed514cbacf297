"""Citations for every source tag in the reference's Sources list (shared/clinical/reference.md).

Rules carry tags such as ("S7", "K15"); `SOURCES` turns a tag into the full citation a clinician can follow.
The text is copied verbatim from the reference. The reference body also cites two group tags that its list
only gives in lettered parts ([K7] for ELEKT-D, [R15] for ESCAPE-TRD); they resolve to their parts here.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class SourceGroup(StrEnum):
    """The headings of the reference's Sources list."""

    SPRAVATO = "Spravato / REMS"
    KETAMINE = "Ketamine"
    SCALES = "Scales and definitions"
    TRD = "TRD staging"
    COSTS = "Costs"


_R10A = (
    "ClinicalTrials.gov NCT04226963 outcome definitions (CADSS 23 items, 0–92; BPRS+ 4 "
    "items). https://inclinicaltrials.com/major-depressive-disorder/NCT04226963/details"
)

_LISTED: dict[str, str] = {
    "S1": (
        "FDA SPL, SPRAVATO (esketamine) nasal spray, set-id "
        "d81a6a79-a74a-44b7-822c-0dfa3036eaed, version 18, effectiveTime 2026-03-13. "
        "https://nctr-crs.fda.gov/fdalabel/services/spl/set-ids/d81a6a79-a74a-44b7-822c-0dfa3036eaed/spl-doc "
        "(header only read)"
    ),
    "S2": "MIMS Hong Kong, Spravato dosage. https://uat.mimsdev.com/hongkong/drug/info/spravato",
    "S3a": (
        'Janssen, SPRAVATO HCP "Dosing and Administration". '
        "https://www.spravatohcp.com/dosing-and-administration"
    ),
    "S3b": "Janssen, TRD dosing. https://www.spravatohcp.com/trd/dosing-and-administration",
    "S3c": "Janssen, MDSI dosing. https://www.spravatohcp.com/mdsi/dosing-and-administration",
    "S3d": (
        'Janssen, "Dosing SPRAVATO TRD" (pulse oximetry, BP at 40 min). '
        "https://www.spravatohcp.com/dosing-spravato-trd"
    ),
    "S4": "Label dosing text reproduced at https://liobm.com/spravato/",
    "S4b": ("MPR monograph via Oncology Nurse Advisor. https://www.oncologynurseadvisor.com/drug/spravato/"),
    "S5": "PDR drug summary, Spravato. https://pdr.net/drug-summary/?drugLabelId=24300",
    "S6": (
        "Prescriber Point, Spravato PI (boxed warning incl. respiratory depression; 5.1/5.2). "
        "https://prescriberpoint.com/therapies/spravato-d81a6a7"
    ),
    "S7": "Label highlights reproduced at https://wcmedicine.com/?p=441",
    "S8": (
        "SPRAVATO full PI (2019, Janssen) reproduced at "
        "http://www.120ty.net/bencandy.php?aid=58243&fid=134&page=3 (also &page=5, 6, 8, 14, "
        "21). Original: "
        "janssenlabels.com/package-insert/product-monograph/prescribing-information/SPRAVATO-pi.pdf"
    ),
    "S9": (
        "SPRAVATO Important Safety Information (2021), US Medicine. "
        "https://www.usmedicine.com/2021online-dir/inc/html/33.html and …/30.html"
    ),
    "S10": (
        "MedicineNet, Spravato interactions/pregnancy. "
        "https://www.medicinenet.com/side_effects_of_esketamine_spravato/side-effects.htm"
    ),
    "S11": (
        'J&J Medical Connect, "Concomitant Use with MAOIs" (updated 11/22/2024). '
        "https://jnjmedicalconnect.com/products/spravato/medical-content/concomitant-use-with-monoamine-oxidase-inhibitors"
    ),
    "S12": "MPR Spravato monograph (mirror). http://butalbitalapap.org/index-4966.html",
    "S13": (
        "FDA REMS@FDA, SPRAVATO REMS (REMS=386). "
        "https://www.accessdata.fda.gov/scripts/cder/rems/index.cfm?event=IndvRemsDetails.page&REMS=386"
    ),
    "S14": (
        "SPRAVATO REMS Patient Monitoring Form, outpatient (form dated 11/2021). Copies: "
        "https://manualspro.net/445029-spravato-patient-monitoring-form-instructions ; "
        "https://manuzoid.com/manuals/DGLLa-Spravato%20Patient%20Monitoring%20Operating%20instructions"
    ),
    "S15": (
        'J&J Medical Connect, "SPRAVATO REMS Patient Monitoring Form Overview" (video '
        "transcript). "
        "https://jnjmedicalconnect.com/products/spravato/video-spravato-rems-patient-monitoring-form-overview"
    ),
    "S16a": "https://www.spravatorems.com/outpatient-hcs.html",
    "S16b": "https://www.spravatorems.com/inpatient-hcs.html",
    "S17": ("Open Minds, FDA approves Spravato monotherapy (Jan 2025). https://openminds.com/?p=1131447"),
    "S17b": (
        "Becker's Hospital Review. "
        "https://www.beckershospitalreview.com/pharmacy/j-j-approves-1st-monotherapy-for-treatment-resistant-depression.html"
    ),
    "S17c": (
        "Mid City TMS summary of Janik et al. 2025. "
        "https://www.midcitytms.com/breakthrough-spravato-monotherapy-approval"
    ),
    "S18": ("Spravato ISI (indication wording incl. monotherapy). https://www.beinghealth.co/spravato-isi"),
    "S19": (
        'NHS SPS, "Safety labelling for esketamine (Spravato) updated in the US to include risk '
        'of respiratory depression and arrest". '
        "https://www.medicinesresources.nhs.uk/safety-labelling-for-esketamine-spravato-updated-in-the-us-to-include-risk-of-respiratory-depression-and-arrest.html"
    ),
    "S20": (
        'J&J Medical Connect, "Adverse Event of SPRAVATO – Sedation and Somnolence" '
        "(05/15/2025). "
        "https://www.jnjmedicalconnect.com/products/spravato/medical-content/adverse-event-of-spravato-sedation-and-somnolence"
    ),
    "S21": ("openFDA NDC 50458-028. https://api.fda.gov/drug/ndc.json?search=product_ndc%3A%2250458-028%22"),
    "S22": (
        "Dr. Oracle summary citing label BP data (secondary). "
        "https://www.droracle.ai/articles/841138/what-are-the-contraindications-for-esketamine-nasal-spray"
    ),
    "S23": "Consumer label summary (contraindications). https://www.painandspinesa.com/spravato",
    "S24": (
        "Example of an over-inclusive contraindication list (do not use). "
        "https://www.droracle.ai/articles/45443/what-are-the-contraindications-of-spravato-esketamine"
    ),
    "S25": (
        'J&J Medical Connect, "Adverse event: respiratory depression" (02/07/2025). '
        "https://jnjmedicalconnect.com/products/spravato/medical-content/adverse-event-respiratory-depression"
    ),
    "S25b": (
        '"Use in patients with compromised respiratory function". '
        "https://jnjmedicalconnect.com/products/spravato/medical-content/use-of-spravato-in-patients-with-compromised-respiratory-function"
    ),
    "S26": (
        "Medication Guide excerpt (pregnancy registry). "
        "https://viewer.joomag.com/discovering-you-magazine-february-2024-issue/0630909001490834231/p19"
    ),
    "S27": (
        "Vendor guide on the 7-day filing deadline (non-authoritative). "
        "https://lucido-go.com/learn/spravato-rems-filing-deadline"
    ),
    "S29": "Clinic page paraphrasing the missed-dose guidance. https://renewinfusions.com/spravato",
    "S28": (
        'Dr. Oracle, IV ketamine requirements (secondary; "4–6 weeks" adequacy). '
        "https://www.droracle.ai/articles/788538/what-are-the-requirements-for-administering-iv-intravenous-ketamine"
    ),
    "K1": (
        "Sanacora G, et al. JAMA Psychiatry. 2017;74(4):399–405. Record: "
        "https://www.semanticscholar.org/paper/f3cc7c523eecc5af48d27af8fa959d131bf5f64c ; "
        "abstract: https://jamanetwork.com/journals/jamapsychiatry/article-abstract/2605202"
    ),
    "K2": (
        "Gateway Psychiatric, quotes from the APA consensus. "
        "https://www.gatewaypsychiatric.com/ketamine-guidelines/"
    ),
    "K3": (
        "Andrade C. Ketamine for Depression, 4: In What Dose, at What Rate, by What Route, for "
        "How Long, and at What Frequency? J Clin Psychiatry. 2017;78(7):e852–e857. "
        "https://www.psychiatrist.com/JCP/article/Pages/2017/v78n07/17f11738.aspx"
    ),
    "K4": (
        "Andrade C. Oral Ketamine for Depression, 2: Practical Considerations. J Clin Psychiatry "
        "2019. "
        "https://www.psychiatrist.com/jcp/depression/oral-ketamine-for-depression-practical-considerations/"
    ),
    "K5": (
        "Lara DR, Bisol LW, Munari LR. Very low dose sublingual ketamine… Int J "
        "Neuropsychopharmacol 2013. https://docslib.org/doc/4347699/"
    ),
    "K6": (
        "Murrough JW, et al. Biol Psychiatry. 2013;74(4):250–256. "
        "https://pmc.ncbi.nlm.nih.gov/articles/PMC3725185"
    ),
    "K7a": (
        "Anand A, et al. Ketamine versus ECT for Nonpsychotic Treatment-Resistant Major Depression. N Engl "
        "J Med 2023;388:2315–2325. "
        "https://utsouthwestern.elsevierpure.com/en/publications/ketamine-versus-ect-for-nonpsychotic-treatment-resistant-major-de"
    ),
    "K7b": "MedPage coverage (MADRS response). http://eobjstudio.com/meetingcoverage/apa/104691",
    "K7c": (
        "Ekstrand J, et al. Ketamine or ECT? What have we learned from KetECT and ELEKT-D. IJNP "
        "2024;27(1):pyad065. "
        "https://scholars.mssm.edu/en/publications/ketamine-or-ect-what-have-we-learned-from-the-ketect-and-elekt-d-"
    ),
    "K8": (
        "Ekstrand J, et al. KetECT. Int J Neuropsychopharmacol. 2022;25(5):339–349. "
        "https://pmc.ncbi.nlm.nih.gov/articles/PMC9154276"
    ),
    "K9": (
        "McInnes LA, et al. J Affect Disord. 2022;301:486–495. "
        "https://stanfordhealthcare.org/publications/837/837264.html"
    ),
    "K9b": (
        "ELEKT-D secondary analysis, JAMA Netw Open 2024. https://pmc.ncbi.nlm.nih.gov/articles/PMC11200139/"
    ),
    "K9c": (
        "Five-year public-clinic study summary. "
        "https://www.moreblossom.com/papers/iv-low-dose-ketamine-infusions-for-treatment-resistant-depression-results-from-a"
    ),
    "K10": (
        "Emory BP safety report (684 infusions). "
        "https://moreblossom.com/papers/blood-pressure-safety-of-subanesthetic-ketamine-for-depression-a-report-on-684-i"
    ),
    "K11": (
        "Blood pressure changes during ketamine infusion for depression (Yale). Gen Hosp "
        "Psychiatry 2024; doi:10.1016/j.genhosppsych.2024.07.001. "
        "https://litmetric.com/detail/38991311/"
    ),
    "K12a": (
        "ASKP basics of administration (reproduced by member practice). "
        "https://paswfl.com/2018/06/25/paswfl-is-now-a-member-of-the-american-society-of-ketamine-physicians/"
    ),
    "K12b": (
        "Osmind, ASKP3 standards/pledge (Jan 2025). "
        "https://osmind.org/blog/askp3-standards-for-ketamine-therapy ; ASKP3 Standards of "
        "Practice 2020 announcement: "
        "https://www.prnewswire.com/news-releases/american-society-of-ketamine-physicians-psychotherapists-and-practitioners-announces-standards-of-practice-in-the-therapeutic-use-of-subanesthetic-ketamine-301109692.html "  # noqa: E501 (one long URL)
        "; https://www.askp.org/"
    ),
    "K13": (
        "NCT01441505 summary (IV/IM/SC 0.1–0.5 mg/kg), GitHub ejaybennett/healthdata, "
        "CNNFORMAT/summaries9/NCT01441505.story"
    ),
    "K14": (
        "Yip R, et al. Front Psychiatry 2022;13:1017504. https://pmc.ncbi.nlm.nih.gov/articles/PMC9556663"
    ),
    "K15": (
        "Ketalar SmPC (MHRA, Pfizer 2019), contraindications/precautions. "
        "https://rxreasoner.com/monographs/ketalar/precautions"
    ),
    "K16": (
        "Swiss ketamine Fachinformation, contraindications. "
        "https://ch.oddb.org:443/en/gcc/fachinfo/reg/67199/chapter/contra_indications"
    ),
    "K16b": (
        "Ketamin-hameln PIL (DE). "
        "https://medikamio.com/de-de/medikamente/ketamin-hameln-50-mgml-injektionsloesung/pil"
    ),
    "K17": (
        "KETALAR US PI summary. "
        "https://inpharmd.com/can-ketamine-provide-rapid-onset-anti-suicidal-benefit-for-patients-with-acute-severe-suicidal-ideation"
    ),
    "K18": (
        "Anaesthetics + levothyroxine (Kaplan JA, Cooperman LH. Anesthesiology 1971;35:229–30). "
        "http://vibore.com/204"
    ),
    "K18b": (
        "Ketamine injection US label adverse reactions. "
        "http://edrugswiki.com/drug/ketamine-injection-concentrate"
    ),
    "K19a": (
        "Andrashko V, et al. The antidepressant effect of ketamine is dampened by concomitant "
        "benzodiazepine medication. Front Psychiatry 2020;11:844. "
        "https://www.frontiersin.org/articles/10.3389/fpsyt.2020.00844/full"
    ),
    "K19b": (
        "Andrade C. Ketamine for Depression, 5: Potential Pharmacokinetic and Pharmacodynamic "
        "Drug Interactions. J Clin Psychiatry 2017;78(7). "
        "https://www.psychiatrist.com/JCP/article/Pages/2017/v78n07/17f11802.aspx"
    ),
    "K20": (
        "Williams NR, et al. Attenuation of antidepressant effects of ketamine by opioid "
        "receptor antagonism. Am J Psychiatry 2018. "
        "https://psychiatryonline.org/doi/abs/10.1176/appi.ajp.2018.18020138"
    ),
    "K21": (
        "Ketanest (esketamine IV) safety information, Pfizer Norway. "
        "https://www.pfizer.no/helsepersonell/legemiddel/ketanest/ketanest-sikkerhetsinformasjon"
    ),
    "K22": (
        "WikEM, Ketamine (ED sedation contraindications). "
        "https://es.wikem.org/w/index.php?diff=next&oldid=10976&title=Ketamine"
    ),
    "R1": (
        "HL7 US Core Questionnaire PHQ-9 example (STU9). "
        "https://www.hl7.org/fhir/us/core/STU9/Questionnaire-phq-9-example.html ; QuestionnaireResponse: "
        "https://hl7.org/fhir/us/core/STU6.1/QuestionnaireResponse-phq-9-example.html ; US Behavioral "
        "Health Profiles example: "
        "https://build.fhir.org/ig/HL7/us-behavioral-health-profiles/QuestionnaireResponse-phq-9-example-1.html"
    ),
    "R2": (
        "LHC-Forms (lformsVersion 34.3.0) FHIR Questionnaire exports of LOINC 44249-1 and "
        "69737-5, embedded in a public GitHub Dart file"
    ),
    "R2b": "Several public FHIR implementations agree",
    "R3": ('Medizininformatik-Initiative PRO profile "MII_PR_PRO_Observation_PHQ_9" (published on GitHub)'),
    "R4": (
        "Kroenke K, Spitzer RL, Williams JB. The PHQ-9. J Gen Intern Med 2001;16:606–613 (cut "
        "points via https://www.david-cook.org/what-is-a-qid-score/ and "
        "https://processingtherapy.com/what-is-a-phq-9-and-gad-7)"
    ),
    "R5": (
        "Spitzer RL, et al. A brief measure for assessing generalized anxiety disorder: the "
        "GAD-7. Arch Intern Med 2006;166:1092–1097 (bands via https://medi-stats.com/gad-7-phq-9 "
        "; sensitivity/specificity via https://pbpsychiatricservices.com/gad/)"
    ),
    "R6a": (
        "Wikipedia, MADRS. "
        "https://en.wikipedia.org/wiki/Montgomery%E2%80%93%C3%85sberg_Depression_Rating_Scale"
    ),
    "R6b": "Snaith cut points (McDowell text). https://th4.ilovetranslation.com/J7JCavJZW9A=d",
    "R6c": "Müller MJ, et al. J Affect Disord 2000;60:137–40",
    "R6d": ("Müller MJ, et al. J Affect Disord 2003;77:255–60. https://pubmed.ncbi.nlm.nih.gov/14612225/"),
    "R7a": "Rush AJ, et al. The 16-item QIDS… Biol Psychiatry 2003;54:573–583",
    "R7b": (
        "Guideline Central QIDS calculator (domain-max rules). "
        "https://www.guidelinecentral.com/calculators/2c9e8038734e3c9e017353447e5a007e/"
    ),
    "R7c": "https://hiboop.com/assessments/qids-sr/",
    "R7d": "IDS/QIDS interpretation tables. http://ids-qids.org/interpretation.html",
    "R8a": (
        "Zimmerman M, et al. Severity classification on the HAM-D. J Affect Disord "
        "2013;150:384–388 (via https://statistics.datanalysis.net/questionnaires/health/hamd-17)"
    ),
    "R8b": "https://hiboop.com/assessments/ham-d/",
    "R8c": (
        "https://medicpulse.org/en/calculators/hamilton-depression-scale ; "
        "https://pbpsychiatricservices.com/hd/"
    ),
    "R9": (
        "BMC Anesthesiology 2022, Table 2 (MOAA/S). "
        "https://bmcanesthesiol.biomedcentral.com/articles/10.1186/s12871-022-01788-1/tables/2"
    ),
    "R9b": "alternative versions: Thorax table; ASJA table",
    "R10a": _R10A,
    "R10b": (
        "Bremner JD, et al. Psychometric properties of the 23-item CADSS… J Affect Disord 2024;364:249–258"
    ),
    "R10c": (
        "Rodrigues NB, et al. CADSS-6. J Affect Disord 2021. "
        "https://research.regionh.dk/da/publications/a-simplified-6-item-clinician-administered-dissociative-symptom-s"
    ),
    "R10d": (
        "Yale group (authors incl. Davidson L, Silverman WK, Sanacora G). Acute psychoactive "
        "effects of intravenous ketamine during treatment of mood disorders: analysis of the "
        "CADSS. J Affect Disord 2018;227:11–16. https://www.ncbi.nlm.nih.gov/pubmed?term=29045915"
    ),
    # The reference lists R11a as the same record as R10a.
    "R11a": "Same record as R10a: " + _R10A,
    "R11b": "BPRS items 1–7. https://pmc.ncbi.nlm.nih.gov/articles/PMC8779246",
    "R12a": ("Columbia Protocol triage. https://cssrs.columbia.edu/the-columbia-scale-c-ssrs/triage-c-ssrs/"),
    "R12b": (
        "Clinical triage guidelines using the C-SSRS. https://docsbay.net/doc/914678/c-ssrs-triage-guidelines"
    ),
    "R12c": (
        "Columbia announcement (low/moderate/high). "
        "https://cssrs.columbia.edu/about-the-project/news-press/announcements/triage-document-available-easy-understand-levels-risk/"
    ),
    "R13a": (
        "SUSTAIN-1 results poster. "
        "https://develop-sr3snxi-tt7lcx6s5gdv4.us-4.platformsh.site/site/pcn/posters/esketamine-nasal-spray-combined-oral-antidepressant-relapse-prevention-treatment-resistant "  # noqa: E501 (one long URL)
        "; Daly EJ, et al. JAMA Psychiatry 2019;76(9):893–903. "
        "https://pmc.ncbi.nlm.nih.gov/articles/PMC6551577"
    ),
    "R13b": (
        "Janssen summary (HR 0.30, NNT). "
        "https://www.janssenmedicalcloud.me/en-us/median-time-relapse-stable-responders"
    ),
    "R13c": (
        "SUSTAIN-3 Table 3 (MADRS ≤12, PHQ-9 <5 definitions). "
        "https://pmc.ncbi.nlm.nih.gov/articles/PMC10439056/table/Tab3"
    ),
    "R14a": (
        "Popova V, et al. TRANSFORM-2. Am J Psychiatry 2019;176:428–438 (abstract copy). "
        "https://www.scribd.com/document/786233715/Popova-et-al-2019-TRANSFORM-2"
    ),
    "R14b": (
        "Clin Pharmacol Ther 2020;109:536–546, Table 1 (response/remission, remitter = MADRS "
        "≤12). https://pmc.ncbi.nlm.nih.gov/articles/PMC7894501/table/cpt2024-tbl-0001"
    ),
    "R14c": (
        "same, Table 2 (TRANSFORM-3). https://pmc.ncbi.nlm.nih.gov/articles/PMC7894501/table/cpt2024-tbl-0002"
    ),
    "R15a": (
        "Reif A, et al. Esketamine nasal spray versus quetiapine for TRD. N Engl J Med 2023;389:1298–1309 "
        "(summary). "
        "https://www.moreblossom.com/papers/esketamine-nasal-spray-versus-quetiapine-for-treatment-resistant-depression"
    ),
    "R15b": "abstract. https://repository.uantwerpen.be/link/irua/200542",
    "R16": (
        "Rush AJ, et al. STAR*D. Am J Psychiatry 2006;163:1905–1917. "
        "https://psychiatryonline.org/doi/10.1176/ajp.2006.163.11.1905"
    ),
    "T1": (
        "PLoS One 2020;15(7):e0236434, Panel 1 (KIM, ESM, MGH-s, MSM). "
        "https://pmc.ncbi.nlm.nih.gov/articles/PMC7392234/table/pone.0236434.t001"
    ),
    "T2": (
        "Fekadu A, et al. Standardisation framework for the Maudsley staging method. BMC "
        "Psychiatry 2018;18:100, Table 3. "
        "https://bmcpsychiatry.biomedcentral.com/articles/10.1186/s12888-018-1679-x/tables/3"
    ),
    "T2b": "https://psychiatryeducationforum.com/maudsley-staging-method-msm-for-treatment-resistant-depression-trd/",
    "T2c": (
        "Fekadu A, et al. J Clin Psychiatry 2009;70(7):952–957. "
        "http://www.psychiatrist.com/JCP/article/Pages/2009/v70n07/v70n0702.aspx"
    ),
    "T3": ("Thase–Rush staging. https://medicalalgorithms.com/treatment-resistant-depression-strategies"),
    "T4a": (
        "ATHF (long form) and references. "
        "https://www.advancedinterventions.org.uk/index.php/en/resources/treatment-histories/athf.html"
    ),
    "T4b": (
        "Sackeim HA, et al. ATHF-SF. J Psychiatr Res 2019;113:125–136. "
        "https://dukespace.lib.duke.edu//signposting/describedby/77f88c6b-d198-46be-8ede-1d7d124be58d"
    ),
    "T4c": (
        "staging-model overview (ATHF 0–5). "
        "https://www.droracle.ai/articles/498897/what-are-the-classifications-of-treatment-resistant-depression-trd"
    ),
    "T5": (
        "CNS Spectrums, esketamine MADRS–PHQ-9 paper (TRD = inadequate response to ≥2 oral ADs of adequate "
        "dose and duration; Gaynes). "
        "http://core-varnish-new.prod.aop.cambridge.org/core/journals/cns-spectrums/article/effects-of-esketamine-nasal-spray-on-depressive-symptom-severity-in-adults-with-treatmentresistant-depression-and-associations-between-the-montgomeryasberg-depression-rating-scale-and-the-9item-patient-health-questionnaire/57EB8D14B3F87B81C65DD97390F7E787"
    ),
    "T6": (
        "Sforzini L, et al. (EU-PEARL) TRD/PRD consensus. Mol Psychiatry 2022. "
        "https://pmc.ncbi.nlm.nih.gov/articles/PMC9095475"
    ),
    "T6b": (
        "Royal Prince Alfred public ketamine clinic paper (TRD definition). "
        "https://pmc.ncbi.nlm.nih.gov/articles/PMC11193313"
    ),
    "C1": (
        "STAT+ figures reported by Medically Sound. "
        "https://medicallysound.com/eskatamine-is-potentially-prohibitively-expensive/"
    ),
    "C2": "https://biologyinsights.com/why-is-ketamine-treatment-so-expensive",
    "C3": "https://ketaminetherapyfordepression.org/?p=2707",
    "C4": "https://www.webdelics.com/post/ketamine-treatment-costs",
}

# Group tags used in the reference body ("[K7]", "[R15]") whose citations the list gives only in parts.
_GROUPS: dict[str, tuple[str, ...]] = {
    "K7": ("K7a", "K7b", "K7c"),
    "R15": ("R15a", "R15b"),
}

SOURCES: dict[str, str] = {
    **_LISTED,
    **{tag: " ; ".join(f"[{part}] {_LISTED[part]}" for part in parts) for tag, parts in _GROUPS.items()},
}

SOURCE_GROUPS: dict[str, SourceGroup] = {
    "S1": SourceGroup.SPRAVATO,
    "S2": SourceGroup.SPRAVATO,
    "S3a": SourceGroup.SPRAVATO,
    "S3b": SourceGroup.SPRAVATO,
    "S3c": SourceGroup.SPRAVATO,
    "S3d": SourceGroup.SPRAVATO,
    "S4": SourceGroup.SPRAVATO,
    "S4b": SourceGroup.SPRAVATO,
    "S5": SourceGroup.SPRAVATO,
    "S6": SourceGroup.SPRAVATO,
    "S7": SourceGroup.SPRAVATO,
    "S8": SourceGroup.SPRAVATO,
    "S9": SourceGroup.SPRAVATO,
    "S10": SourceGroup.SPRAVATO,
    "S11": SourceGroup.SPRAVATO,
    "S12": SourceGroup.SPRAVATO,
    "S13": SourceGroup.SPRAVATO,
    "S14": SourceGroup.SPRAVATO,
    "S15": SourceGroup.SPRAVATO,
    "S16a": SourceGroup.SPRAVATO,
    "S16b": SourceGroup.SPRAVATO,
    "S17": SourceGroup.SPRAVATO,
    "S17b": SourceGroup.SPRAVATO,
    "S17c": SourceGroup.SPRAVATO,
    "S18": SourceGroup.SPRAVATO,
    "S19": SourceGroup.SPRAVATO,
    "S20": SourceGroup.SPRAVATO,
    "S21": SourceGroup.SPRAVATO,
    "S22": SourceGroup.SPRAVATO,
    "S23": SourceGroup.SPRAVATO,
    "S24": SourceGroup.SPRAVATO,
    "S25": SourceGroup.SPRAVATO,
    "S25b": SourceGroup.SPRAVATO,
    "S26": SourceGroup.SPRAVATO,
    "S27": SourceGroup.SPRAVATO,
    "S29": SourceGroup.SPRAVATO,
    "S28": SourceGroup.SPRAVATO,
    "K1": SourceGroup.KETAMINE,
    "K2": SourceGroup.KETAMINE,
    "K3": SourceGroup.KETAMINE,
    "K4": SourceGroup.KETAMINE,
    "K5": SourceGroup.KETAMINE,
    "K6": SourceGroup.KETAMINE,
    "K7a": SourceGroup.KETAMINE,
    "K7b": SourceGroup.KETAMINE,
    "K7c": SourceGroup.KETAMINE,
    "K8": SourceGroup.KETAMINE,
    "K9": SourceGroup.KETAMINE,
    "K9b": SourceGroup.KETAMINE,
    "K9c": SourceGroup.KETAMINE,
    "K10": SourceGroup.KETAMINE,
    "K11": SourceGroup.KETAMINE,
    "K12a": SourceGroup.KETAMINE,
    "K12b": SourceGroup.KETAMINE,
    "K13": SourceGroup.KETAMINE,
    "K14": SourceGroup.KETAMINE,
    "K15": SourceGroup.KETAMINE,
    "K16": SourceGroup.KETAMINE,
    "K16b": SourceGroup.KETAMINE,
    "K17": SourceGroup.KETAMINE,
    "K18": SourceGroup.KETAMINE,
    "K18b": SourceGroup.KETAMINE,
    "K19a": SourceGroup.KETAMINE,
    "K19b": SourceGroup.KETAMINE,
    "K20": SourceGroup.KETAMINE,
    "K21": SourceGroup.KETAMINE,
    "K22": SourceGroup.KETAMINE,
    "R1": SourceGroup.SCALES,
    "R2": SourceGroup.SCALES,
    "R2b": SourceGroup.SCALES,
    "R3": SourceGroup.SCALES,
    "R4": SourceGroup.SCALES,
    "R5": SourceGroup.SCALES,
    "R6a": SourceGroup.SCALES,
    "R6b": SourceGroup.SCALES,
    "R6c": SourceGroup.SCALES,
    "R6d": SourceGroup.SCALES,
    "R7a": SourceGroup.SCALES,
    "R7b": SourceGroup.SCALES,
    "R7c": SourceGroup.SCALES,
    "R7d": SourceGroup.SCALES,
    "R8a": SourceGroup.SCALES,
    "R8b": SourceGroup.SCALES,
    "R8c": SourceGroup.SCALES,
    "R9": SourceGroup.SCALES,
    "R9b": SourceGroup.SCALES,
    "R10a": SourceGroup.SCALES,
    "R10b": SourceGroup.SCALES,
    "R10c": SourceGroup.SCALES,
    "R10d": SourceGroup.SCALES,
    "R11a": SourceGroup.SCALES,
    "R11b": SourceGroup.SCALES,
    "R12a": SourceGroup.SCALES,
    "R12b": SourceGroup.SCALES,
    "R12c": SourceGroup.SCALES,
    "R13a": SourceGroup.SCALES,
    "R13b": SourceGroup.SCALES,
    "R13c": SourceGroup.SCALES,
    "R14a": SourceGroup.SCALES,
    "R14b": SourceGroup.SCALES,
    "R14c": SourceGroup.SCALES,
    "R15a": SourceGroup.SCALES,
    "R15b": SourceGroup.SCALES,
    "R16": SourceGroup.SCALES,
    "T1": SourceGroup.TRD,
    "T2": SourceGroup.TRD,
    "T2b": SourceGroup.TRD,
    "T2c": SourceGroup.TRD,
    "T3": SourceGroup.TRD,
    "T4a": SourceGroup.TRD,
    "T4b": SourceGroup.TRD,
    "T4c": SourceGroup.TRD,
    "T5": SourceGroup.TRD,
    "T6": SourceGroup.TRD,
    "T6b": SourceGroup.TRD,
    "C1": SourceGroup.COSTS,
    "C2": SourceGroup.COSTS,
    "C3": SourceGroup.COSTS,
    "C4": SourceGroup.COSTS,
    "K7": SourceGroup.KETAMINE,
    "R15": SourceGroup.SCALES,
}


def unknown_tags(tags: Iterable[str]) -> frozenset[str]:
    """The tags that `SOURCES` cannot resolve (empty when every tag has a citation)."""
    return frozenset(tag for tag in tags if tag not in SOURCES)


def cite(tag: str) -> str:
    """The full citation for one tag; an unknown tag raises KeyError naming it."""
    try:
        return SOURCES[tag]
    except KeyError:
        raise KeyError(f"unknown source tag {tag!r}") from None
