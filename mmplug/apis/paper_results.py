"""The hand-maintained part of the model index: papers, official numbers and
their sources, per config.

``tools/misc/update_model_index.py`` combines this table with what it reads
from each config (task, dataset, schedule, batch, pretrained checkpoint) and
what it measures (parameters and FLOPs, with
``tools/analysis_tools/get_flops.py``'s code) into ``model-index.yml`` and
one ``configs/<folder>/metafile.yml`` per folder. Edit this file, not the
metafiles, then rerun the script (``--reuse`` keeps the measured figures of
configs whose path did not change).

Numbers come only from ``../shared/reference/*.md`` (which cite the paper
table or official README) and this repository's README (demo figures), as
percentages (COCO AP x 100, as mmdet's own metafiles write them).
"""

#: Collection (one per folder under ``configs/``): name, paper, code, and
#: what ``Results Source`` says for a config of the folder without an entry
#: in :data:`RESULTS`.
COLLECTIONS = {
    'smt': dict(
        name='SMT',
        title='Scale-Aware Modulation Meet Transformer (ICCV 2023)',
        url='https://arxiv.org/abs/2307.08579',
        code='https://github.com/AFeng-x/SMT',
        none='no official number for this config'),
    'parc_convnext': dict(
        name='ParC-ConvNeXt',
        title='ParC-Net (ECCV 2022) and Fast-ParC',
        url='https://arxiv.org/abs/2203.03952',
        code='https://github.com/hkzhang91/ParC-Net',
        none='no official number: the authors published ConvNeXt-XT with '
        'Cascade Mask R-CNN 3x (COCO) and UPerNet 160k (ADE20K) only; '
        'ParC-ConvNeXt-T numbers are not confirmed'),
    'parc_resnet': dict(
        name='ParC-ResNet',
        title='ParC-Net (ECCV 2022) and Fast-ParC',
        url='https://arxiv.org/abs/2203.03952',
        code='https://github.com/hkzhang91/ParC-Net',
        none='no official number for Mask R-CNN: the official README reports '
        'ParC-ResNet-50 with Cascade Mask R-CNN 3x, 48.1 box / 41.8 mask AP '
        '(ResNet-50 47.5 / 41.1), and UPerNet 160k on ADE20K, 43.85 mIoU '
        '(ResNet-50 42.27); no config for those is shipped'),
    'scsc': dict(
        name='SCSC',
        title='SCSC: Spatial Cross-scale Convolution Module to Strengthen '
        'both CNNs and Transformers (ICCV 2023 Workshops)',
        url='https://arxiv.org/abs/2308.07110',
        code='https://github.com/megvii-research/SCSC',
        none='no official number: SCSC publishes ImageNet results only (no '
        'detection or segmentation code, recipe or result)'),
    'fpt': dict(
        name='FPT',
        title='Feature Pyramid Transformer (ECCV 2020)',
        url='https://arxiv.org/abs/2007.09451',
        code='https://github.com/ZHANGDONG-NJUST/FPT',
        none='no official number for this config'),
    'dca_fpn': dict(
        name='DCA-FPN',
        title='Learning Connected Attentions for Convolutional Neural '
        'Networks (DCANet, ECCV 2020), applied to the FPN',
        url='https://arxiv.org/abs/2007.05099',
        code='https://github.com/ma-xu/DCANet',
        none='no official number: DCA in the FPN is a new design (DCANet '
        'connects attention inside backbones only)'),
    'dcanet': dict(
        name='DCANet',
        title='Learning Connected Attentions for Convolutional Neural '
        'Networks (ECCV 2020)',
        url='https://arxiv.org/abs/2007.05099',
        code='https://github.com/ma-xu/DCANet',
        none='no official number for this config'),
    'do_conv': dict(
        name='DO-Conv',
        title='DO-Conv: Depthwise Over-parameterized Convolutional Layer '
        '(IEEE TIP 2022)',
        url='https://arxiv.org/abs/2006.12030',
        code='https://github.com/yangyanli/DO-Conv',
        none='no official number: ImageNet top-1 gains only (+0.08 for '
        'ResNet-50 to +1.01 for Plain-18, official README); no detection '
        'or segmentation number is confirmed'),
    'psconv': dict(
        name='PSConv',
        title='PSConv: Squeezing Feature Pyramid into One Compact Poly-Scale '
        'Convolutional Layer (ECCV 2020)',
        url='https://arxiv.org/abs/2007.06191',
        code='https://github.com/d-li14/PSConv',
        none='no official number: the official README reports COCO '
        'detectors only'),
    'pyconv': dict(
        name='PyConv',
        title='Pyramidal Convolution: Rethinking Convolutional Neural '
        'Networks for Visual Recognition',
        url='https://arxiv.org/abs/2006.11538',
        code='https://github.com/iduta/pyconv',
        none='no official number: ImageNet PyConvResNet-50 77.88 vs '
        'ResNet-50 76.12 top-1 (official README); detection and '
        'segmentation numbers are not confirmed'),
    'ulsam': dict(
        name='ULSAM',
        title='ULSAM: Ultra-Lightweight Subspace Attention Module for '
        'Compact Convolutional Neural Networks (WACV 2020)',
        url='https://arxiv.org/abs/2006.15102',
        code='https://github.com/Nandan91/ULSAM',
        none='no official number: MobileNet-V2 ImageNet +0.27 top-1 with '
        '~13% fewer FLOPs and parameters (abstract); no detection or '
        'segmentation result'),
    'weightnet': dict(
        name='WeightNet',
        title='WeightNet: Revisiting the Design Space of Weight Networks '
        '(ECCV 2020)',
        url='https://arxiv.org/abs/2007.11823',
        code='https://github.com/megvii-model/WeightNet',
        none='no official number: ShuffleNetV2 1.0x ImageNet top-1 error '
        '30.9 -> 28.8 (official README); COCO numbers are not confirmed'),
    'dgc': dict(
        name='DGC',
        title='Dynamic Group Convolution for Accelerating Convolutional '
        'Neural Networks (ECCV 2020)',
        url='https://arxiv.org/abs/2007.04242',
        code='https://github.com/zhuogege1943/dgc',
        none='no official number: classification only (ResNet-18-DGC '
        'ImageNet top-1 error 31.22, official README)'),
    'mobilenext': dict(
        name='MobileNeXt',
        title='Rethinking Bottleneck Structure for Efficient Mobile Network '
        'Design (ECCV 2020)',
        url='https://arxiv.org/abs/2007.02269',
        code='https://github.com/zhoudaquan/rethinking_bottleneck_design',
        none='no official number: ImageNet 74.02 top-1 (official README) '
        'and SSDLite on COCO, 23.3 vs MobileNetV2 22.3 mAP (another '
        'detector)'),
    'group_ensemble': dict(
        name='Group Ensemble',
        title='Group Ensemble: Learning an Ensemble of ConvNets in a single '
        'ConvNet',
        url='https://arxiv.org/abs/2007.00649',
        code=None,
        none='no official number: ImageNet only ("reduces the top-1 error '
        'by 1.83% for ResNeXt-50", abstract); no official code'),
    'mask_rcnn': dict(
        name='Mask R-CNN (baselines)',
        title='Mask R-CNN',
        url='https://arxiv.org/abs/1703.06870',
        code='https://github.com/open-mmlab/mmdetection',
        none='no official number: mmdet 3.3.0 has no R-18 Mask R-CNN 1x '
        'result'),
    'upernet': dict(
        name='UPerNet (baselines)',
        title='Unified Perceptual Parsing for Scene Understanding',
        url='https://arxiv.org/abs/1807.10221',
        code='https://github.com/open-mmlab/mmsegmentation',
        none='no official number: mmseg 1.2.2 has no R-18 UPerNet result on '
        'ADE20K'),
    'demo': dict(
        name='Demo',
        title='mmplug demo (synthetic data, tools/misc/make_demo_data.py)',
        url=None,
        code=None,
        dataset='demo',
        resources='CPU, 1 process',
        none='no documented demo figure'),
}

#: Backbone type -> backbone settings under which its FLOPs are counted
#: (written to the metafile as ``FLOPs Options``). ParC's FFT form is not
#: counted by mmengine; its FLOPs are those of the spatial convolution it
#: equals, as in the README.
FLOPS_OPTIONS = {
    'mmplug.ParCConvNeXt': {'impl': 'spatial'},
    'mmplug.ParCResNet': {'impl': 'spatial'},
}

#: Config file (relative to ``configs/``) -> folder whose collection it
#: belongs to, for configs outside a collection's folder.
COLLECTION_OF = {'smt_maskrcnn_1x.py': 'smt'}

MMDET_R50 = ('mmdet 3.3.0 Mask R-CNN R-50 FPN 1x '
             '(configs/mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py): '
             '38.2 box / 34.7 mask AP')
MMSEG_R50 = ('mmseg 1.2.2 UPerNet R-50 160k '
             '(configs/upernet/upernet_r50_4xb4-160k_ade20k-512x512.py): '
             '42.05 mIoU')
SMT_README = 'SMT official README, COCO table'
DEMO = ("README, 'The demo' (make demo: seed 0, 40 validation images of "
        'the demo data, 2-core CPU)')

#: Official numbers per config (relative to ``configs/``): ``metrics``
#: (metafile metric -> value, %), ``source``, and optionally ``baseline``
#: (what the paper compares with) and ``note``.
RESULTS = {
    # SMT
    'smt_maskrcnn_1x.py': dict(
        metrics={'box AP': 47.8, 'mask AP': 43.0},
        source=f'{SMT_README} (SMT-S Mask R-CNN 1x; AP breakdown in RMT, '
        'arXiv 2309.11523, Table 2)',
        baseline="Swin-T Mask R-CNN 1x: 43.7 box / 39.8 mask AP (Swin's "
        'official detection README)'),
    'smt/mask-rcnn_smt-s_fpn_ms-crop-3x_coco.py': dict(
        metrics={'box AP': 49.0, 'mask AP': 43.4},
        source=f'{SMT_README} (SMT-S Mask R-CNN 3x+MS)',
        baseline='Swin-T Mask R-CNN 3x+MS: 46.0 box / 41.6 mask AP'),
    'smt/mask-rcnn_smt-b_fpn_ms-crop-3x_coco.py': dict(
        metrics={'box AP': 49.8, 'mask AP': 44.0},
        source=f'{SMT_README} (SMT-B Mask R-CNN 3x+MS)',
        baseline='Swin-S Mask R-CNN 3x+MS: 48.5 box / 43.3 mask AP (the '
        "abstract's +1.3)"),
    'smt/cascade-mask-rcnn_smt-s_fpn_giou-4conv1fc_ms-crop-3x_coco.py': dict(
        metrics={'box AP': 51.9, 'mask AP': 44.7},
        source=f'{SMT_README} (SMT-S Cascade Mask R-CNN 3x+MS)',
        baseline='Swin-T Cascade Mask R-CNN 3x: 50.5 box / 43.7 mask AP '
        '(RMT Table 4)'),
    'smt/retinanet_smt-s_fpn_ms-crop-3x_coco.py': dict(
        metrics={'box AP': 47.3},
        source=f'{SMT_README} (SMT-S RetinaNet 3x)'),
    'smt/upernet_smt-s_8xb2-160k_ade20k-512x512.py': dict(
        metrics={'mIoU': 49.2, 'mIoU(ms+flip)': 50.2},
        source='SMT official README, ADE20K table (SMT-S UPerNet 160k)',
        baseline='Swin-T UPerNet 160k: 44.5 / 45.8 mIoU'),
    'smt/upernet_smt-b_8xb2-160k_ade20k-512x512.py': dict(
        metrics={'mIoU': 49.6, 'mIoU(ms+flip)': 50.6},
        source='SMT official README, ADE20K table (SMT-B UPerNet 160k)',
        baseline="Swin-S UPerNet 160k: 47.6 / 49.5 mIoU (the abstract's "
        '+2.0 / +1.1)'),
    # ParC
    'parc_convnext/cascade-mask-rcnn_parc-convnext-xt_fpn_giou-4conv1fc_'
    'ms-crop-3x_coco.py': dict(
        metrics={'box AP': 47.7, 'mask AP': 41.5},
        source='ParC-Net official README (ParC_ConvNets), COCO table; '
        "Cascade Mask R-CNN 3x per the authors' detection configs",
        baseline='ConvNeXt-XT: 47.2 box / 41.0 mask AP'),
    'parc_convnext/cascade-mask-rcnn_convnext-xt_fpn_giou-4conv1fc_'
    'ms-crop-3x_coco.py': dict(
        metrics={'box AP': 47.2, 'mask AP': 41.0},
        source='ParC-Net official README (ParC_ConvNets), COCO table, the '
        'ConvNeXt-XT baseline row'),
    'parc_convnext/upernet_parc-convnext-xt_8xb2-160k_ade20k-512x512.py':
    dict(metrics={'mIoU': 42.32},
         source='ParC-Net official README (ParC_ConvNets), ADE20K table; '
         "UPerNet 160k per the authors' segmentation configs",
         baseline='ConvNeXt-XT: 42.17 mIoU'),
    'parc_convnext/upernet_convnext-xt_8xb2-160k_ade20k-512x512.py': dict(
        metrics={'mIoU': 42.17},
        source='ParC-Net official README (ParC_ConvNets), ADE20K table, the '
        'ConvNeXt-XT baseline row'),
    # FPT
    'fpt/mask-rcnn_r50_fpt_1x_coco.py': dict(
        source='no official number: the paper\'s headline is "+8.5 box AP '
        'and +6.0 mask AP on COCO test-dev" over its own baselines (GN, '
        'PANet-style heads, multi-scale, ~16-24 epochs); no per-table '
        'number is confirmed',
        baseline=MMDET_R50),
    'fpt/upernet_r50_fpt_4xb4-160k_ade20k-512x512.py': dict(
        source='no official number: the paper\'s headline is "+1.7 mIoU on '
        'ADE20K val" over its own baseline; no per-table number is '
        'confirmed',
        baseline=MMSEG_R50),
    'fpt/upernet_smt-s_fpt_8xb2-160k_ade20k-512x512.py': dict(
        source='no official number: a combination neither paper reports',
        baseline='SMT-S UPerNet 160k: 49.2 mIoU (SMT official README)'),
    # DCA-FPN: baselines only
    'dca_fpn/mask-rcnn_r50_dca-se-fpn_1x_coco.py': dict(baseline=MMDET_R50),
    'dca_fpn/mask-rcnn_smt-s_dca-se-fpn_1x_coco.py': dict(
        baseline='SMT-S Mask R-CNN 1x: 47.8 box / 43.0 mask AP (SMT '
        'official README)'),
    # DCANet: the official detectors
    'dcanet/retinanet_r50-dca-se_fpn_2x_coco.py': dict(
        metrics={'box AP': 37.7},
        source='DCANet official README, Table 2 (COCO val, mmdet v1, '
        'RetinaNet 2x, ImageNet-pretrained DCA-SE-ResNet-50)',
        baseline='SE-ResNet-50: 37.4 box AP (ResNet-50: 36.2)'),
    'dcanet/cascade-rcnn_r50-dca-gc_fpn_2x_coco.py': dict(
        metrics={'box AP': 41.4},
        source='DCANet official README, Table 2 (COCO val, mmdet v1, '
        'Cascade R-CNN 20e, ImageNet-pretrained DCA-GC-ResNet-50)',
        baseline='GC-ResNet-50: 41.1 box AP (ResNet-50: 40.6)'),
    # plug-and-play layers
    'do_conv/mask-rcnn_r50-doconv_fpn_1x_coco.py': dict(baseline=MMDET_R50),
    'do_conv/upernet_r50-doconv_4xb4-160k_ade20k-512x512.py': dict(
        baseline=MMSEG_R50),
    'psconv/mask-rcnn_ps-r50_fpn_1x_coco.py': dict(
        metrics={'box AP': 39.4, 'mask AP': 35.6},
        source='PSConv official README, COCO table (Mask R-CNN R-50 FPN 1x, '
        'ImageNet-pretrained PS-ResNet-50)',
        baseline='the README gives no baseline row; ' + MMDET_R50),
    'psconv/upernet_ps-r50_4xb4-160k_ade20k-512x512.py': dict(
        baseline=MMSEG_R50),
    'pyconv/mask-rcnn_pyconv-r50_fpn_1x_coco.py': dict(baseline=MMDET_R50),
    'pyconv/upernet_pyconv-r50_4xb4-160k_ade20k-512x512.py': dict(
        baseline=MMSEG_R50),
    'ulsam/mask-rcnn_r50-ulsam_fpn_1x_coco.py': dict(baseline=MMDET_R50),
    'ulsam/upernet_r50-ulsam_4xb4-160k_ade20k-512x512.py': dict(
        baseline=MMSEG_R50),
    'weightnet/mask-rcnn_r50-weightnet_fpn_1x_coco.py': dict(
        baseline=MMDET_R50),
    'weightnet/upernet_r50-weightnet_4xb4-160k_ade20k-512x512.py': dict(
        baseline=MMSEG_R50),
    'dgc/mask-rcnn_r50-dgc_fpn_1x_coco.py': dict(baseline=MMDET_R50),
    'dgc/upernet_r50-dgc_4xb4-160k_ade20k-512x512.py': dict(
        baseline=MMSEG_R50),
    'group_ensemble/mask-rcnn_ge-r50_fpn_1x_coco.py': dict(
        baseline=MMDET_R50),
    'group_ensemble/upernet_ge-r50_4xb4-160k_ade20k-512x512.py': dict(
        baseline=MMSEG_R50),
    # stock baselines
    'mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py': dict(
        metrics={'box AP': 38.2, 'mask AP': 34.7},
        source='mmdet 3.3.0 model zoo (configs/mask_rcnn/metafile.yml)'),
    'upernet/upernet_r50_4xb4-160k_ade20k-512x512.py': dict(
        metrics={'mIoU': 42.05},
        source='mmseg 1.2.2 model zoo (configs/upernet/metafile.yaml)'),
    # demo: what `make demo` and the README's demo runs measured
    'demo/mask-rcnn_r18_fpn_demo.py': dict(
        metrics={'box AP': 41.8, 'mask AP': 57.9}, source=DEMO),
    'demo/mask-rcnn_smt-t_fpn_demo.py': dict(
        metrics={'box AP': 32.4, 'mask AP': 43.7}, source=DEMO),
    'demo/upernet_r18_demo.py': dict(metrics={'mIoU': 94.83}, source=DEMO),
    'demo/mask-rcnn_r18_dca-se-fpn_demo.py': dict(
        metrics={'box AP': 47.8, 'mask AP': 58.6},
        source="README, 'FPT, DCA-FPN and DCA-ResNet', demo table (one run)"),
    'demo/mask-rcnn_r18_fpt_demo.py': dict(
        metrics={'box AP': 44.5, 'mask AP': 58.7},
        source="README, 'FPT, DCA-FPN and DCA-ResNet', demo table (one run)"),
    'demo/mask-rcnn_scsc-r-tiny_fpn_demo.py': dict(
        metrics={'box AP': 32.1, 'mask AP': 47.7},
        source="README, 'SCSC-ResNet, SCSC-Swin and the SCSC module', demo "
        '(one run)'),
    'demo/mask-rcnn_parc-convnext-xt_fpn_demo.py': dict(
        metrics={'box AP': 0.4, 'mask AP': 0.1},
        source="README, 'ParC-ConvNeXt, ParC-ResNet ...', demo (one run, "
        '6 epochs)'),
}
